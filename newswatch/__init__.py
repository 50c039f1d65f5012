"""newswatch: news feeds into DuckDB, topics watched, alerts sent."""
