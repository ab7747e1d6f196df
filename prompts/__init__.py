"""Prompt and reply templates, kept as versioned files; their hash goes into every decision's audit record."""
