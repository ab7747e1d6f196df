"""Backends that map a message to a tool call: embedded (offline) and Ollama (production)."""
