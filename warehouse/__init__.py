"""The DuckDB warehouse: migrations, SQL files, and db.py, the one module that talks to it."""

from newswatch.memory import lean_duckdb

lean_duckdb()  # before any module here imports duckdb (newswatch/memory.py: why)
