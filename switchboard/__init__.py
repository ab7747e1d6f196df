"""The ``switchboard`` command: the composition root that wires settings, storage, tools, agent and interfaces."""
