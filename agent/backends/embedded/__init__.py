"""Embedded offline backend: MiniLM ONNX encoder, intent router and argument extraction."""
