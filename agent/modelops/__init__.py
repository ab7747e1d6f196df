"""Model operations: what the audit log says about the router over time, and how it gets better.

- ``events``: the typed data of the audit events this package writes and reads (corrections, shadow decisions).
- ``reviewed``: the versioned file of reviewed training examples; nothing reaches training any other way.
"""
