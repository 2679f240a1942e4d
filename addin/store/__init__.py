"""The server store: one database (SQLite in the data directory, or PostgreSQL) whose schema
Alembic migrations make, with the series registry and the token vault on it."""
