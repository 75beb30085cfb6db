"""The asset catalog: what content exists, who owns it, and the CSV import."""
