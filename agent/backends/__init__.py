"""Agent backends that turn a message into a typed tool call."""
