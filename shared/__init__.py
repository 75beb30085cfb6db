"""Code every Glassboard service shares: event schemas, settings, names, Kafka and DB plumbing."""
