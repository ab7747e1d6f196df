"""Factories, fakes and loopback servers shared by the tests."""
