"""Usage figures of one asset: totals per device, daily series, pages and recent ratings."""
