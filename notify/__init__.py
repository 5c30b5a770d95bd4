"""Notifications leaving the service: webhook URLs checked once, and the outbox delivered with retries."""
