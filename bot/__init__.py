"""Switchboard's Telegram bot (python-telegram-bot v22): chat with the agent and approve escalated actions.

Entry points: ``bot.app.build_application(settings, switchboard=...)`` for the Application and
``bot.webhook.build_webhook_router(application, settings)`` for webhook mode.
"""
