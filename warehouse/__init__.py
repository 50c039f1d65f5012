"""The DuckDB warehouse: migrations, SQL files, and db.py, the one module that talks to it."""

from newswatch.memory import lean_duckdb_and_arrow

lean_duckdb_and_arrow()  # before any module here imports duckdb (newswatch/memory.py: why)
