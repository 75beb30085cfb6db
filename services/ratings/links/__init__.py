"""Share links: a rep sends an asset to a named recipient and sees who opened, read and
forwarded it (docs/share-links.md); marketing sees the aggregates."""
