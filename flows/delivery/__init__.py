"""Delivery: send artifacts to destinations and notifications to people, each exactly once, with backoff.

``deliver`` and ``notify`` keep their outbox rows; ``transports`` make one attempt over SFTP, a share folder,
HTTP, SMTP or the Telegram Bot API; ``retry`` owns the backoff; ``recipients`` expands groups. May import: core.
"""
