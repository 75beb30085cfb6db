"""The alert inbox, how people hear about alerts, and their own rule settings."""
