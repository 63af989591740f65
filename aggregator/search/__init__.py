"""The search language, pure: the search box → `SearchQuery` (`query`, or `QueryError`, a
400), text → index tokens (`terms`), matches marked for the reader (`highlight`). The index
and the queries that run a search live in the store (`store.search_index`, `store.search_sql`).
"""
