"""Storage: the database (SQLite by default, PostgreSQL when configured) and its tables."""
