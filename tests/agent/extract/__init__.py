"""Tests of the embedded backend's typed argument extractors."""
