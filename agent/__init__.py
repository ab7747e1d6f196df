"""The agent: backends that map messages to typed tool calls, the policy gate, approvals and the chat graph."""
