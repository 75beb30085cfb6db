"""The notifier's reads of tables other services own: one module per owner."""
