"""The source of truth: call records, their history and the knowledge loop, in SQLite or PostgreSQL."""
