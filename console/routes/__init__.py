"""The console's routers, one module per area."""
