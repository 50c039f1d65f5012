"""The DuckDB warehouse: migrations, SQL files, and db.py, the one module that talks to it."""
