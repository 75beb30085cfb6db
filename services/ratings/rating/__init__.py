"""Ratings people give: the store with its outbox, the relay, and one-tap rating commands."""
