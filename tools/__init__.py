"""The typed tool registry: every tool is a pydantic args model plus a ToolSpec that calls into flows/."""
