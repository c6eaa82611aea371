"""Accounts, login, tokens and API keys."""
