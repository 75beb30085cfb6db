"""Who people are and how they sign in: users, roles, sessions, API tokens, magic links."""
