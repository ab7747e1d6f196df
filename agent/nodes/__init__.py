"""The chat graph's nodes, one module per stage of a turn.

- ``understand``: help, an answer to the thread's pending question, or a new decision from the backend;
- ``check``: the arguments validated once into a bound call, or what is missing or invalid;
- ``gate``: the policy's verdict, audited;
- ``ask``: ask back (a missing or invalid argument, a low-confidence guess) or offer two close tools;
- ``act``: execute, confirm, escalate to an approver, refuse, or shadow mode;
- ``reply``: help, cancellation, and remembering the turn.

Each node is a function of its dependencies (``ChatDeps``, bound by ``agent.graph.build_graph``), the typed
``ChatState`` and, when it needs the thread, the run's config. Nodes read the state's attributes and return a
``ChatUpdate``; they read only the operator's message, the thread's earlier calls and the tool schemas, so text
inside data cannot steer the planner.
"""

from agent.nodes.deps import ChatDeps

__all__ = ["ChatDeps"]
