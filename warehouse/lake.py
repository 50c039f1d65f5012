"""DuckLake: where a lake is, how its extensions load offline, and how our DDL becomes lake DDL.

A lake is a catalog (PostgreSQL for many machines; a DuckDB file for one process) plus a data
path of Parquet files. DuckDB attaches it as `lake`. Nothing here runs a query: warehouse/db.py
does that, for both backends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

NAME = "lake"  # the attached catalog's name: `USE lake`, and `lake.articles` in the CLI


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse. `catalog` is a PostgreSQL connection string (key=value pairs or a
    postgresql:// URI) or the path of a DuckDB catalog file; `data_path` the folder (or object
    store prefix) its Parquet files go to."""

    catalog: str
    data_path: str

    @property
    def on_postgres(self) -> bool:
        return is_postgres(self.catalog)

    @property
    def attach_uri(self) -> str:
        return f"ducklake:postgres:{self.catalog}" if self.on_postgres \
            else f"ducklake:{self.catalog}"

    def exists(self) -> bool:
        """A PostgreSQL catalog is created by the first writer's migration; we cannot tell
        cheaply without connecting, so we say yes and let the query say otherwise."""
        return self.on_postgres or Path(self.catalog).exists()

    def __str__(self) -> str:
        return f"{self.attach_uri} (data {self.data_path})"


def is_postgres(catalog: str) -> bool:
    return catalog.startswith(("postgres://", "postgresql://")) or "=" in catalog


def extension_paths() -> list[str]:
    """The DuckLake and PostgreSQL-scanner extensions shipped inside their PyPI wheels, pinned
    to our duckdb version: `LOAD '<file>'` never downloads (`LOAD ducklake` by name would)."""
    import duckdb  # here, not at the top: the config imports this module, and so does every
    # extraction worker that imports the run's main module (the CLI), which needs no duckdb

    paths = []
    for module, name in (("duckdb_extension_ducklake", "ducklake"),
                         ("duckdb_extension_postgres_scanner", "postgres_scanner")):
        root = Path(import_module(module).__file__).parent
        file = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
        if not file.exists():
            raise FileNotFoundError(
                f"{file} is missing: the {module} wheel must match duckdb {duckdb.__version__} "
                f"(pip install '{module.replace('_', '-')}=={duckdb.__version__}')")
        paths.append(str(file))
    return paths


_CHECK = re.compile(r"\s+CHECK\s*\(", re.IGNORECASE)
_TABLE_KEY = re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)", re.IGNORECASE)
_COLUMN_KEY = re.compile(r"\s+(PRIMARY KEY|UNIQUE)\b", re.IGNORECASE)
_ON_CONFLICT = re.compile(r"\s+ON CONFLICT DO NOTHING", re.IGNORECASE)
_BOOL_DEFAULT = re.compile(r"(BOOLEAN)\s+DEFAULT\s+(true|false)", re.IGNORECASE)


def _drop_checks(ddl: str) -> str:
    out, i = [], 0
    while m := _CHECK.search(ddl, i):
        out.append(ddl[i:m.start()])
        depth, j = 1, m.end()
        while depth:  # skip to the parenthesis that closes CHECK (…), nested ones included
            depth += {"(": 1, ")": -1}.get(ddl[j], 0)
            j += 1
        i = j
    return "".join(out) + ddl[i:]


def lake_ddl(migration: str) -> str:
    """A migration as DuckLake takes it. DuckLake has no PRIMARY KEY, UNIQUE or CHECK
    constraints (NOT NULL and non-boolean defaults stay): the keys are kept by how we write
    (the lake variants of warehouse/sql/ insert only absent keys, under the writer turn), the
    closed sets of statuses by the code that writes them. `ON CONFLICT DO NOTHING` appears only
    in the old migrations' backfills, which select nothing in a lake: a lake is always created
    at the latest schema, and filled by `newswatch migrate-warehouse` after that."""
    ddl = _drop_checks(migration)
    ddl = _TABLE_KEY.sub("", ddl)
    ddl = _COLUMN_KEY.sub("", ddl)
    # DuckLake 1.5.5 takes no BOOLEAN default ("non-literal default value"); the two such
    # columns (runs.offline, topic_matches.relevant) are always written explicitly.
    ddl = _BOOL_DEFAULT.sub(r"\1", ddl)
    return _ON_CONFLICT.sub("", ddl)
