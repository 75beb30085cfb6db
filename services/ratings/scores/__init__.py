"""Content scores as read by people: the leaderboard list, its CSV and the live SSE stream."""
