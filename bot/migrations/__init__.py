"""The bot's migrations: its tables keep their own version table, so core never needs to know about them.

``bot.store.BOT_MIGRATIONS`` describes them and ``bot.store.init_bot_tables`` runs them. Add a revision in
``versions/`` whenever a bot table model changes (tests/bot/test_migrations.py fails until you do).
"""
