"""Database fixtures: a migrated store on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
