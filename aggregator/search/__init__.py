"""Full-text search for Chinese and English text, on SQLite and PostgreSQL.

- `query`: the search box language → `SearchQuery` (or `QueryError`, a 400).
- `terms`: text → index tokens (one per CJK character; Latin words whole).
- `index`: the index tables and `reindex_entries`, called where entries change.
- `sql`: `search_entries`, one page of matching entry ids under a time limit.
- `highlight`: matches marked in <mark> for the reader view.
"""
