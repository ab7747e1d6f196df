"""Alembic's entry point for the bot's tables; ``bot.store.init_bot_tables`` runs it with its connection."""

from core.store.migrate import run_environment

run_environment()
