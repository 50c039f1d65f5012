"""The one module that talks to DuckDB.

DuckDB lets one process hold a file read-write, and while it does no other process can open the
file at all. So every function here opens the file, does one short transaction and closes it,
which lets people query the warehouse between the pipeline's writes. Opening retries while
another process holds the lock, up to a wait the caller sets.

Writes go in bulk: rows become an Arrow table registered as `batch`, and the SQL in
`warehouse/sql/` reads from it. SQL lives in those files, not here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newswatch.memory import lean_arrow
from warehouse.lake import NAME as LAKE_NAME
from warehouse.lake import Lake, extension_paths, lake_ddl

lean_arrow()  # as Arrow is first imported for the warehouse (newswatch/memory.py: why)

# Where a warehouse is: a DuckDB file, or a DuckLake (catalog + data path).
Target = Path | Lake

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"
LOCK_RETRY_S = 0.1  # a writer's transaction takes milliseconds; poll the lock that often


class WarehouseBusy(Exception):
    """Another process held the warehouse file for longer than we were willing to wait."""


@cache
def sql(name: str, lake: bool = False) -> str:
    """warehouse/sql/NAME.sql; on a lake its variant in sql/lake/ where there is one (DuckLake
    has no ON CONFLICT, which needs a key constraint, and no RETURNING)."""
    variant = HERE / "sql" / "lake" / f"{name}.sql"
    if lake and variant.exists():
        return variant.read_text(encoding="utf-8")
    return (HERE / "sql" / f"{name}.sql").read_text(encoding="utf-8")


_LAKE_CONNECTIONS: set[int] = set()  # ids of the open connections that see a lake


def _sql_for(con: Any, name: str) -> str:
    return sql(name, id(con) in _LAKE_CONNECTIONS)


def _is_lock_error(e: duckdb.Error) -> bool:
    return "lock" in str(e).lower()


@contextlib.contextmanager
def _turnstile(path: Path, exclusive: bool) -> Iterator[None]:
    """A writer that finds the file held closes the turnstile (a lock file beside it) until it
    gets in; readers pass it (shared) for each attempt to open. Readers that open one connection
    after another (web pages in a loop) would otherwise leave a polling writer only
    milliseconds-wide gaps: with it, a writer waits for the reads in flight, no longer."""
    import fcntl

    try:
        f = path.with_name(path.name + ".turnstile").open("a+")
    except OSError:  # a read-only folder: no turnstile, plain polling
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# A writer's connection (the ingest's stages) holds DuckDB's buffer pool, which by default may
# take 80 % of the machine's memory and, once grown, stays in the process; a run's batches are
# one chunk (~200 pages) and need far less. Past it DuckDB spills to a temporary file.
WRITER_MEMORY_LIMIT = "256MB"
# A batch's keys (a chunk's articles, a poll's stories: hundreds) joined to a large table go
# into its scan as an IN filter, so only the row vectors holding them are read. At DuckDB's
# default (50), reading a poll's 430 new articles back scanned every stored text into the
# buffer pool: +103 MB at 5,200 stored articles (growing with them) against +24, 4x slower.
JOIN_FILTER_KEYS = 4096
# Rows in a row group that a writer appends to. DuckDB appends to a keyed table (articles,
# entries, sightings…) in its last row group, and the checkpoint at close rewrites that row
# group whole: at DuckDB's default (122,880 rows) that is every text stored in a day, read and
# recompressed by each chunk's load. 4,096 rows bound that rewrite to ~20 MB of text: 400
# 5-KB rows appended to 16,000 cost 117 MB at the default, 41 here (2,048: 25 MB, but twice
# the row groups' metadata to open); scans of 200,000 rows measured no slower.
ROW_GROUP_SIZE = 4096
# Names a warehouse cannot go by in a connection (DuckDB's own catalogs).
_RESERVED = {"memory", "system", "temp", "main"}


def _open(path: Path, read_only: bool, config: dict[str, Any] | None) -> Any:
    if read_only:
        with _turnstile(path, exclusive=False):
            return duckdb.connect(str(path), read_only=True, config=config or {})
    # The row group size is an ATTACH option: attach the file under its own name (as
    # duckdb.connect(path) would name it) to an in-memory connection and use it.
    # An in-memory connection would spill to ./.tmp of wherever newswatch was started; a file
    # database's own place is beside it (DuckDB removes it on close).
    con = duckdb.connect(config={"memory_limit": WRITER_MEMORY_LIMIT,
                                 "dynamic_or_filter_threshold": JOIN_FILTER_KEYS,
                                 "temp_directory": f"{path}.tmp",
                                 **(config or {})})
    name = path.stem if path.stem.lower() not in _RESERVED else "warehouse"
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS {_ident(name)} "
                    f"(ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        con.execute(f"USE {_ident(name)}")
    except BaseException:
        con.close()
        raise
    return con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@contextlib.contextmanager
def connect(path: Target, *, read_only: bool = False, wait_s: float = 30.0,
            config: dict[str, Any] | None = None) -> Iterator[Any]:
    """Open the file, retrying while another process holds it; always close it again."""
    if isinstance(path, Lake):
        with _lake_connect(path, read_only, wait_s, config) as con:
            yield con
        return
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with contextlib.ExitStack() as waiting:
        turnstile_closed = False
        while True:
            try:
                con = _open(path, read_only, config)
                break
            except duckdb.IOException as e:
                if not _is_lock_error(e) or time.monotonic() >= deadline:
                    if _is_lock_error(e):
                        raise WarehouseBusy(
                            f"{path} is held by another process (a running ingest or an open "
                            f"duckdb session) and stayed locked for {wait_s:g} s. Try again, "
                            f"or close the other session."
                        ) from None
                    raise
                if not read_only and not turnstile_closed:
                    waiting.enter_context(_turnstile(path, exclusive=True))
                    turnstile_closed = True
                time.sleep(LOCK_RETRY_S)
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


# --- DuckLake ------------------------------------------------------------------------------
# A lake has no file lock: writers commit snapshots (DuckLake retries a commit that does not
# conflict), readers read the snapshot they started on and never wait. What the file lock gave
# us, one writer's read-compute-write at a time, the lake's *turn* gives: a PostgreSQL advisory
# lock on the catalog (a lock file beside a DuckDB catalog), held by a writer for each write
# transaction and for the stages that read, decide and write (dedup, stories, alerts). The
# heavy work (fetching, extracting) runs outside it, in every shard at once.

LAKE_RETRIES = 30  # DuckLake's commit retries (default 10): shards commit chunks at once
TURN_KEY = 0x6E657773  # the advisory lock's key ("news"): one turn per catalog database
_lake_bases: dict[tuple[int, Lake], Any] = {}
_lake_guard = threading.Lock()


def _lake_open(lake: Lake, read_only: bool, config: dict[str, Any] | None) -> Any:
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    for ext in extension_paths():
        con.execute(f"LOAD '{ext}'")
    options = f"DATA_PATH {_literal(str(lake.data_path))}" + (", READ_ONLY" if read_only else "")
    if not lake.on_postgres:
        Path(lake.catalog).parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"ATTACH {_literal(lake.attach_uri)} AS {LAKE_NAME} ({options})")
    con.execute(f"USE {LAKE_NAME}")
    con.execute(f"SET ducklake_max_retry_count = {LAKE_RETRIES}")
    for key, value in (config or {}).items():
        if key == "enable_external_access" and value is False:
            # The lake reads its own Parquet files and nothing else.
            con.execute("SET allowed_directories = ?", [[str(lake.data_path)]])
        con.execute(f"SET {key} = {value!r}" if not isinstance(value, bool)
                    else f"SET {key} = {str(value).lower()}")
    return con


@contextlib.contextmanager
def _lake_connect(lake: Lake, read_only: bool, wait_s: float,
                  config: dict[str, Any] | None) -> Iterator[Any]:
    """Our own statements on a PostgreSQL catalog share one attached instance per process (a
    cursor each: attaching costs tens of ms). A DuckDB catalog is a file one process holds at a
    time: opened and closed per call, retried while another holds it. Sandboxed readers always
    get a connection of their own."""
    if lake.on_postgres and not config and not read_only:
        key = (os.getpid(), lake)
        with _lake_guard:
            base = _lake_bases.get(key)
            if base is None:
                base = _lake_bases[key] = _lake_open(lake, False, None)
        con = base.cursor()
        con.execute(f"USE {LAKE_NAME}")
    else:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                con = _lake_open(lake, read_only and lake.on_postgres, config)
                break
            except duckdb.Error as e:
                if not _is_lock_error(e) or time.monotonic() >= deadline:
                    raise
                time.sleep(LOCK_RETRY_S)
    _LAKE_CONNECTIONS.add(id(con))
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        _LAKE_CONNECTIONS.discard(id(con))
        con.close()


class _Turn:
    """The lake's turn in this process: a re-entrant thread lock, and while some thread holds
    it, the catalog-wide lock (a PostgreSQL session advisory lock, released by PostgreSQL if
    the process dies; or a lock file beside a DuckDB catalog)."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.local = threading.RLock()
        self.depth = 0
        self.pg: Any = None
        self.file: Any = None

    def acquire(self) -> None:
        self.local.acquire()
        self.depth += 1
        if self.depth > 1:
            return
        try:
            if self.lake.on_postgres:
                import psycopg

                if self.pg is None or self.pg.closed:
                    self.pg = psycopg.connect(self.lake.catalog, autocommit=True)
                self.pg.execute("SELECT pg_advisory_lock(%s)", [TURN_KEY])
            else:
                import fcntl

                self.file = Path(self.lake.catalog + ".turn").open("a+")  # noqa: SIM115 (held)
                fcntl.flock(self.file, fcntl.LOCK_EX)
        except BaseException:
            self.depth -= 1
            self.local.release()
            raise

    def release(self) -> None:
        self.depth -= 1
        try:
            if self.depth == 0:
                if self.pg is not None:
                    self.pg.execute("SELECT pg_advisory_unlock(%s)", [TURN_KEY])
                if self.file is not None:
                    self.file.close()  # closing the file drops its lock
                    self.file = None
        finally:
            self.local.release()


_turns: dict[tuple[int, Lake], _Turn] = {}


@contextlib.contextmanager
def turn(path: Target) -> Iterator[None]:
    """Hold the warehouse's writer turn: no other writer of this lake reads-decides-writes
    meanwhile. A DuckDB file needs none: its run holds the file's writer lock throughout."""
    if not isinstance(path, Lake):
        yield
        return
    with _lake_guard:
        t = _turns.setdefault((os.getpid(), path), _Turn(path))
    t.acquire()
    try:
        yield
    finally:
        t.release()


@contextlib.contextmanager
def transaction(path: Target, wait_s: float = 30.0) -> Iterator[Any]:
    with turn(path), connect(path, wait_s=wait_s) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def migrate(path: Target) -> list[str]:
    """Apply every numbered migration not yet applied; return the ones applied now. Each in one
    transaction; when DuckDB 1.5 refuses that (rows of a table altered earlier in the same
    transaction, on an old file with data), statement by statement: migrations are idempotent,
    so one cut short runs again whole. On a lake, under the writer turn, each migration as
    DuckLake takes it (warehouse/lake.py)."""
    lake = isinstance(path, Lake)
    applied: list[str] = []
    with turn(path), connect(path) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)" if lake else
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)"
        )
        done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
        for file in sorted(MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql")):
            if file.stem in done:
                continue
            text = lake_ddl(file.read_text(encoding="utf-8")) if lake \
                else file.read_text(encoding="utf-8")
            record = ("INSERT INTO schema_migrations VALUES (?, now())", [file.stem])
            try:  # one transaction: all or nothing
                con.execute("BEGIN TRANSACTION")
                con.execute(text)
                con.execute(*record)
                con.execute("COMMIT")
            except duckdb.TransactionException as e:
                if "altered this table" not in str(e):
                    raise
                # Rows of a table altered earlier in the same transaction (an old file with
                # data): statement by statement.
                with contextlib.suppress(duckdb.TransactionException):  # if not ended by COMMIT
                    con.execute("ROLLBACK")
                for statement in con.extract_statements(text):
                    con.execute(statement)
                con.execute(*record)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            applied.append(file.stem)
    return applied


# --- Arrow batches -------------------------------------------------------------------------

def to_arrow(rows: Sequence[Any], schema: pa.Schema) -> pa.Table:
    dicts = [dataclasses.asdict(r) if dataclasses.is_dataclass(r) else r for r in rows]
    return pa.Table.from_pylist(dicts, schema=schema)


def run_batch(con: Any, name: str, table: pa.Table) -> list[tuple]:
    """Run warehouse/sql/NAME.sql with `table` visible as `batch`; return its rows if any."""
    if table.num_rows == 0:
        return []
    con.register("batch", table)
    # On error the transaction is rolled back and the connection closed anyway.
    cur = con.execute(_sql_for(con, name))
    rows = cur.fetchall() if cur.description else []
    con.unregister("batch")
    return rows


def _fetch(con: Any, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cur = con.execute(_sql_for(con, name), params or {})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _fetch_batch(path: Path, name: str, table: pa.Table,
                 params: dict[str, Any] | None = None,
                 memory_limit: str | None = None) -> list[dict[str, Any]]:
    """Run a query over `table` as `batch`; with `memory_limit`, DuckDB spills past it for this
    query alone (a lake's writers share one DuckDB instance, so its limit is given back)."""
    return _fetch_batches(path, name, [table], params, memory_limit)


def _fetch_batches(path: Path, name: str, tables: Sequence[pa.Table],
                   params: dict[str, Any] | None = None,
                   memory_limit: str | None = None) -> list[dict[str, Any]]:
    """The query run over each table in turn as `batch`, on one connection (under one
    `memory_limit`); the rows of all, in the tables' order."""
    return _fetch_each(path, name, [(t, params) for t in tables], memory_limit)


def _fetch_each(path: Path, name: str, runs: Sequence[tuple[pa.Table, dict[str, Any] | None]],
                memory_limit: str | None = None) -> list[dict[str, Any]]:
    """The query run once per (table as `batch`, parameters), on one connection (under one
    `memory_limit`); the rows of all, in order. Empty tables are skipped."""
    runs = [(t, p) for t, p in runs if t.num_rows]
    if not runs:
        return []
    with connect(path) as con:
        return _fetch_each_on(con, name, runs, memory_limit)


def _fetch_each_on(con: Any, name: str, runs: Sequence[tuple[pa.Table, dict[str, Any] | None]],
                   memory_limit: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    was = None
    if memory_limit is not None:
        was = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.execute(f"SET memory_limit = '{memory_limit}'")
    try:
        for table, params in runs:
            con.register("batch", table)
            out += _fetch(con, name, params)
            con.unregister("batch")
    finally:
        if was is not None:
            con.execute(f"SET memory_limit = '{was}'")
    return out


TS = pa.timestamp("us", tz="UTC")
S = pa.string()

FEED_SCHEMA = pa.schema([("feed_url", S), ("name", S), ("outlet", S), ("local", pa.bool_()),
                         ("enabled", pa.bool_()), ("added_at", TS)])
FETCH_LOG_SCHEMA = pa.schema([
    ("run_id", S), ("fetched_at", TS), ("kind", S), ("url", S), ("final_url", S), ("status", S),
    ("reason", S), ("http_status", pa.int32()), ("bytes", pa.int64()), ("elapsed_ms", pa.int32()),
    ("attempts", pa.int32()), ("redirects", pa.list_(S)),
])
FEED_STATE_SCHEMA = pa.schema([
    ("feed_url", S), ("status", S), ("reason", S), ("etag", S), ("last_modified", S),
    ("body_hash", S), ("fetched_at", TS), ("next_due_at", TS), ("error_count", pa.int32()),
    ("failure_weight", pa.float64()), ("interval_min", pa.int32()),
    ("conditional_polls", pa.int32()),
])
ENTRY_SCHEMA = pa.schema([
    ("entry_url", S), ("feed_url", S), ("guid", S), ("title", S), ("summary", S),
    ("published_at", TS), ("first_seen_at", TS), ("content", S), ("author", S),
])
ENTRY_UPDATE_SCHEMA = pa.schema([
    ("entry_url", S), ("state", S), ("last_status", S), ("last_reason", S), ("article_id", S),
])
ARTICLE_SCHEMA = pa.schema([
    ("article_id", S), ("url", S), ("canonical_url", S), ("title", S), ("text", S),
    ("author", S), ("published_at", TS), ("language", S), ("outlet", S), ("feed_url", S),
    ("content_hash", S), ("extraction_method", S), ("first_seen_at", TS),
    ("run_id", S), ("warc_file", S), ("warc_offset", pa.int64()), ("claimed_canonical_url", S),
])
KEY_SCHEMA = pa.schema([("canonical_url", S), ("content_hash", S)])
EXTRACT_LOG_SCHEMA = pa.schema([
    ("run_id", S), ("extracted_at", TS), ("entry_url", S), ("status", S), ("reason", S),
    ("chars", pa.int32()), ("elapsed_ms", pa.int32()),
])
ID_SCHEMA = pa.schema([("article_id", S)])
SIGHTING_SCHEMA = pa.schema([("article_id", S), ("url", S), ("outlet", S), ("feed_url", S),
                             ("seen_at", TS)])
VERSION_SCHEMA = pa.schema([("article_id", S), ("title", S), ("text", S), ("content_hash", S),
                            ("seen_at", TS)])
MATCH_SCHEMA = pa.schema([
    ("topic", S), ("article_id", S), ("matched_at", TS), ("score", pa.float64()),
    ("terms", pa.list_(S)), ("run_id", S), ("snippet", S), ("probability", pa.float64()),
    ("relevant", pa.bool_()),
])
OUTBOX_SCHEMA = pa.schema([("topic", S), ("article_id", S), ("kind", S), ("channel", S),
                           ("status", S)])
DELIVERY_SCHEMA = pa.schema([
    ("topic", S), ("article_id", S), ("kind", S), ("channel", S), ("status", S), ("error", S),
    ("at", TS),
])


DIGEST_SCHEMA = pa.schema([
    ("topic", S), ("channel", S), ("period_start", TS), ("period_end", TS),
    ("stories", pa.int32()), ("title", S), ("body", S),
])
DIGEST_DELIVERY_SCHEMA = pa.schema([
    ("topic", S), ("channel", S), ("period_end", TS), ("status", S), ("error", S), ("at", TS),
])


# --- What the stages read and write --------------------------------------------------------

def start_run(path: Path, run_id: str, started_at: datetime) -> None:
    with transaction(path) as con:
        con.execute(_sql_for(con, "start_run"), {"run_id": run_id, "started_at": started_at})


def finish_run(path: Path, run_id: str, finished_at: datetime, status: str,
               counts: dict[str, int], stage_seconds: dict[str, float],
               offline: bool = False) -> None:
    with transaction(path) as con:
        con.execute(_sql_for(con, "finish_run"), {
            "run_id": run_id, "finished_at": finished_at, "status": status,
            "stage_seconds": json.dumps(stage_seconds), "offline": offline, **counts,
        })


def sync_and_select_due(path: Path, feeds: Sequence[dict[str, Any]], now: datetime,
                        all_feeds: bool) -> list[dict[str, Any]]:
    """Bring the feeds table in line with the config and return the feeds due now."""
    with transaction(path) as con:
        run_batch(con, "sync_feeds", to_arrow(feeds, FEED_SCHEMA))
        if not feeds:
            con.execute("UPDATE feeds SET enabled = false")
        return _fetch(con, "due_feeds", {"now": now, "all_feeds": all_feeds})


def record_entries(path: Path, fetch_log: Sequence[dict[str, Any]],
                   entries: Sequence[dict[str, Any]]) -> set[str]:
    """Store a batch of feed polls' fetch log and entries; return the new entries' URLs."""
    with transaction(path) as con:
        run_batch(con, "insert_fetch_log", to_arrow(fetch_log, FETCH_LOG_SCHEMA))
        new = run_batch(con, "insert_entries", to_arrow(entries, ENTRY_SCHEMA))
    return {r[0] for r in new}


def record_feed_state(path: Path, feed_state: Sequence[dict[str, Any]]) -> None:
    with transaction(path) as con:
        run_batch(con, "update_feed_state", to_arrow(feed_state, FEED_STATE_SCHEMA))


def pending_keys(path: Path, max_attempts: int) -> list[tuple[str, str]]:
    """(entry URL, feed URL) of the entries still waiting for their page, the oldest first."""
    with connect(path) as con:
        return con.execute(_sql_for(con, "pending_keys"),
                           {"max_attempts": max_attempts}).fetchall()


URL_SCHEMA = pa.schema([("entry_url", S)])


def pending_entries(path: Path, urls: Sequence[str]) -> list[dict[str, Any]]:
    """The pending entries with these URLs, whole (in no particular order)."""
    return _fetch_batch(path, "pending_entries",
                        pa.table({"entry_url": pa.array(urls, S)}, schema=URL_SCHEMA))


def known_articles(path: Path, keys: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    return _fetch_batch(path, "known_articles", to_arrow(keys, KEY_SCHEMA))


UNFINISHED_SCHEMA = pa.schema([("article_id", S), ("run_id", S), ("new", pa.bool_()),
                               ("loaded_at", TS)])


def load_articles(path: Path, articles: Sequence[dict[str, Any]],
                  entry_updates: Sequence[dict[str, Any]],
                  fetch_log: Sequence[dict[str, Any]],
                  extract_log: Sequence[dict[str, Any]],
                  sightings: Sequence[dict[str, Any]] = (),
                  versions: Sequence[dict[str, Any]] = (),
                  unfinished: Sequence[dict[str, Any]] = ()) -> None:
    """One transaction: new articles, their sightings and new versions, the outcome of every
    entry, the page and extraction logs, and the articles whose later stages are still to come
    (`unfinished`). Either all of a chunk's load is stored or none of it."""
    with transaction(path) as con:
        run_batch(con, "insert_articles", to_arrow(articles, ARTICLE_SCHEMA))
        run_batch(con, "insert_unfinished", to_arrow(unfinished, UNFINISHED_SCHEMA))
        run_batch(con, "new_versions", to_arrow(versions, VERSION_SCHEMA))
        run_batch(con, "insert_sightings", to_arrow(sightings, SIGHTING_SCHEMA))
        run_batch(con, "update_entries", to_arrow(entry_updates, ENTRY_UPDATE_SCHEMA))
        run_batch(con, "insert_fetch_log", to_arrow(fetch_log, FETCH_LOG_SCHEMA))
        run_batch(con, "insert_extract_log", to_arrow(extract_log, EXTRACT_LOG_SCHEMA))


def unfinished_articles(path: Path) -> list[dict[str, Any]]:
    with connect(path) as con:
        return _fetch(con, "unfinished_articles")


def finish_articles(path: Path, article_ids: Sequence[str]) -> None:
    with transaction(path) as con:
        run_batch(con, "delete_unfinished",
                  to_arrow([{"article_id": a} for a in article_ids], ID_SCHEMA))


def articles_for_matching(path: Path, article_ids: Sequence[str]) -> list[dict[str, Any]]:
    return _fetch_batch(path, "articles_for_matching",
                        to_arrow([{"article_id": a} for a in article_ids], ID_SCHEMA))


def iter_articles(path: Path, wait_s: float, batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every original article, read in batches on a read-only connection."""
    with connect(path, read_only=True, wait_s=wait_s) as con:
        cur = con.execute(_sql_for(con, "all_articles"))
        cols = [d[0] for d in cur.description]
        while rows := cur.fetchmany(batch):
            yield from (dict(zip(cols, r, strict=True)) for r in rows)


Outbox = Callable[[list[tuple[str, str, str]], dict[str, int]], list[dict[str, Any]]]


def record_matches(path: Path, matches: Sequence[dict[str, Any]], outbox: Outbox | None,
                   follow_up: dict[str, Any] | None = None,
                   since: datetime | None = None) -> tuple[int, list[tuple[str, str, str]]]:
    """Store matches, their alerts and the alerts' deliveries in one transaction (an outbox:
    delivery happens after the commit). `outbox(new_alerts, sent_since)` turns the new
    (topic, article, kind) alerts and each topic's alerts sent since `since` into delivery
    rows; `follow_up` ({outlets, now, run_id}) adds follow-ups for stories that grew. Return
    how many matches are new and the alerts made now. With outbox=None (a backfill) only
    matches are stored."""
    with transaction(path) as con:
        stored = len(run_batch(con, "insert_matches", to_arrow(matches, MATCH_SCHEMA)))
        if outbox is None:
            return stored, []
        new = run_batch(con, "insert_alerts", to_arrow(matches, MATCH_SCHEMA))
        if follow_up:
            new += con.execute(_sql_for(con, "insert_follow_ups"), follow_up).fetchall()
        new = sorted((t, a, k) for t, a, k in new)
        recent = ({r["topic"]: r["n"] for r in _fetch(con, "recent_alerts", {"since": since})}
                  if new else {})
        run_batch(con, "insert_deliveries", to_arrow(outbox(new, recent), OUTBOX_SCHEMA))
    return stored, new


def pending_deliveries(path: Path, max_attempts: int) -> list[dict[str, Any]]:
    with connect(path) as con:
        return _fetch(con, "pending_deliveries", {"max_attempts": max_attempts})


def record_deliveries(path: Path, deliveries: Sequence[Any]) -> None:
    with transaction(path) as con:
        run_batch(con, "update_deliveries", to_arrow(deliveries, DELIVERY_SCHEMA))


def digest_items(path: Path, digest_topics: Sequence[str], now: datetime
                 ) -> list[dict[str, Any]]:
    with connect(path) as con:
        return _fetch(con, "digest_items", {"digest_topics": list(digest_topics), "now": now})


def record_digests(path: Path, digests: Sequence[Any]) -> None:
    with transaction(path) as con:
        run_batch(con, "insert_digests", to_arrow(digests, DIGEST_SCHEMA))


def pending_digests(path: Path, max_attempts: int) -> list[dict[str, Any]]:
    with connect(path) as con:
        return _fetch(con, "pending_digests", {"max_attempts": max_attempts})


def record_digest_deliveries(path: Path, deliveries: Sequence[Any]) -> None:
    with transaction(path) as con:
        run_batch(con, "update_digests", to_arrow(deliveries, DIGEST_DELIVERY_SCHEMA))


REEXTRACT_SCHEMA = pa.schema([("article_id", S), ("title", S), ("text", S),
                              ("content_hash", S), ("at", TS)])


def archived_articles(path: Path) -> list[dict[str, Any]]:
    with connect(path) as con:
        return _fetch(con, "archived_articles")


def record_reextraction(path: Path, changed: Sequence[dict[str, Any]],
                        extract_log: Sequence[dict[str, Any]]) -> None:
    with transaction(path) as con:
        run_batch(con, "update_reextracted", to_arrow(changed, REEXTRACT_SCHEMA))
        run_batch(con, "insert_extract_log", to_arrow(extract_log, EXTRACT_LOG_SCHEMA))


def unlink_archive_days(path: Path, days: Sequence[str]) -> int:
    with transaction(path) as con:
        return con.execute(_sql_for(con, "unlink_archive_days"), {"days": list(days)}).fetchone()[0]


def checkpoint(path: Path) -> None:
    """Fold the write-ahead log into the file (DuckDB does this on close too; a long-lived
    file that is only ever appended to still benefits from an explicit one)."""
    with connect(path) as con:
        con.execute("CHECKPOINT")


def status(path: Path, wait_s: float, max_attempts: int
           ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    with connect(path, read_only=True, wait_s=wait_s) as con:
        return (_fetch(con, "status_feeds"), _fetch(con, "status_counts")[0],
                _fetch(con, "status_deliveries", {"max_attempts": max_attempts}))


# DuckDB on its own reads and writes any file the process can, even on a read-only connection
# (COPY … TO, read_text, ATTACH, INSTALL). The sandbox turns that off at open, before any
# statement runs, and then locks the configuration so a query cannot SET it back.
SANDBOX_CONFIG = {
    "enable_external_access": False,  # no file or URL reads/writes, no ATTACH, no LOAD
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


@contextlib.contextmanager
def sandboxed_reader(path: Path, *, wait_s: float = 10.0, allow_files: bool = False,
                     memory_limit: str | None = None, threads: int | None = None
                     ) -> Iterator[Any]:
    """A read-only connection for queries written by people rather than by us: `newswatch
    sql`, and any web query box. It sees the warehouse's tables and nothing else: external
    access is off and the configuration locked (`SET`/`RESET` of any option fails), so no
    statement reads or writes another file or URL, attaches a database or loads an extension.
    `allow_files=True` is the owner's opt-in at a shell: a plain read-only connection.
    `memory_limit` (e.g. "512MB") is fixed before the lock, for callers serving strangers;
    `threads` too (a server answering several requests at once)."""
    config = {} if allow_files else dict(SANDBOX_CONFIG)
    if threads is not None:
        config["threads"] = threads
    with connect(path, read_only=True, wait_s=wait_s, config=config) as con:
        if memory_limit is not None:
            con.execute("SET memory_limit = ?", [memory_limit])
        if not allow_files:
            con.execute("SET lock_configuration = true")
        yield con


def read_query(path: Path, query: str, wait_s: float, *, allow_files: bool = False
               ) -> tuple[list[str], list[tuple]]:
    """Run a user's query in the sandbox: it cannot change the warehouse, nor touch any other
    file unless `allow_files`."""
    with sandboxed_reader(path, wait_s=wait_s, allow_files=allow_files) as con:
        cur = con.execute(query)
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()


class RunInProgress(Exception):
    """Another ingest run holds the writer lock of this warehouse."""


@contextlib.contextmanager
def writer_lock(path: Target, wait_s: float = 0.0, scope: str = "") -> Iterator[None]:
    """One writing job (an ingest run, a backfill, a digest) per warehouse at a time, across
    processes: two jobs interleaving their short transactions would race on the same rows. The
    lock is a file beside the warehouse; the OS releases it if the process dies. A job may
    wait up to `wait_s` for it. Holding it, the job brings the schema up to date first.

    A lake takes many writers: the lock is then per `scope` (an ingest shard, "i/N"), so two
    runs of one shard never poll its hosts at once, while other shards run beside them; their
    read-decide-write stages take turns (`turn`)."""
    if isinstance(path, Lake) and path.on_postgres:
        with _pg_job_lock(path, wait_s, scope):
            migrate(path)
            yield
        return
    import fcntl

    if isinstance(path, Lake):
        base = Path(path.catalog)
        lock = base.with_name(base.name + f".run-lock{scope.replace('/', 'of')}")
    else:
        lock = path.with_name(path.name + ".run-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with lock.open("a+") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RunInProgress(
                        f"another ingest run is writing to {path} (lock {lock}); this run did "
                        f"nothing. Wait for it to finish."
                    ) from None
                time.sleep(0.2)
        try:
            migrate(path)
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _pg_job_lock(lake: Lake, wait_s: float, scope: str) -> Iterator[None]:
    import hashlib

    import psycopg

    digest = hashlib.sha1(f"newswatch-job:{scope}".encode()).digest()
    key = int.from_bytes(digest[:4], "big") % 2**31  # PostgreSQL's two-key form takes int4
    deadline = time.monotonic() + wait_s
    with psycopg.connect(lake.catalog, autocommit=True) as pg:
        while not pg.execute("SELECT pg_try_advisory_lock(1, %s)", [key]).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise RunInProgress(
                    f"another ingest run{' of shard ' + scope if scope else ''} is writing to "
                    f"{lake}; this run did nothing. Wait for it to finish.")
            time.sleep(0.2)
        try:
            yield
        finally:
            pg.execute("SELECT pg_advisory_unlock(1, %s)", [key])


# --- Stories -------------------------------------------------------------------------------

BUCKET_SCHEMA = pa.schema([("band", pa.int16()), ("bucket", pa.int64()), ("article_id", S)])
TERM_QUERY_SCHEMA = pa.schema([("article_id", S), ("term", S), ("weight", pa.float64()),
                               ("anchor", TS)])
TERM_SCHEMA = pa.schema([("article_id", S), ("term", S), ("weight", pa.float64()),
                         ("seen_at", TS)])
DF_SCHEMA = pa.schema([("term", S), ("df", pa.int32())])
TERM_NAME_SCHEMA = pa.schema([("term", S)])
PLACEMENT_SCHEMA = pa.schema([("article_id", S), ("story_id", S), ("near_duplicate_of", S)])


def articles_for_stories(path: Path, article_ids: Sequence[str]) -> list[dict[str, Any]]:
    return _fetch_batch(path, "articles_for_stories",
                        to_arrow([{"article_id": a} for a in article_ids], ID_SCHEMA))


def lsh_candidates(path: Path, buckets: Sequence[dict[str, Any]],
                   per_article: int) -> list[dict[str, Any]]:
    """Each batch article's `per_article` stored articles sharing the most LSH bands with it;
    a stored article's text only on the first of its rows (None on the others)."""
    return _fetch_batch(path, "lsh_candidates", to_arrow(buckets, BUCKET_SCHEMA),
                        {"per_article": per_article})


def term_stats(path: Path, terms: Sequence[str]) -> tuple[dict[str, int], int]:
    rows = _fetch_batch(path, "term_stats", to_arrow([{"term": t} for t in terms],
                                                     TERM_NAME_SCHEMA))
    df = {r["term"]: r["df"] for r in rows}
    return df, df.pop("#docs", 0)


# Story placement's cosine join aggregates every (new, stored) pair of articles that share a
# term, so its working memory grows with the articles in the story window (measured: the run's
# peak RSS grew ~15 MB a poll of 430 articles). Past this DuckDB spills what it can to disk;
# its aggregate over many pairs cannot (8 million ran out of it), so callers bound the pairs of
# each query (tasks/stories.py: PAIRS_PER_QUERY).
SIMILAR_MEMORY_LIMIT = "96MB"


def window_load(path: Path, term_rows: Sequence[dict[str, Any]], window_days: int,
                bucket_minutes: int) -> list[dict[str, Any]]:
    """The join rows the similar-articles query over `term_rows` would aggregate, per bucket of
    `bucket_minutes` of the stored articles' seen_at, oldest first (empty buckets left out)."""
    return _fetch_batch(path, "window_load", to_arrow(term_rows, TERM_QUERY_SCHEMA),
                        {"window_days": window_days, "bucket_minutes": bucket_minutes},
                        SIMILAR_MEMORY_LIMIT)


def similar_articles(path: Path, parts: Sequence[tuple[Sequence[dict[str, Any]], datetime,
                                                       datetime]],
                     window_days: int, floor: float) -> list[dict[str, Any]]:
    """Each new article's most similar stored article within the window (cosine >= floor), and
    its story. A part is term rows (each article's together) and the stretch [lo, hi) of
    stored seen_at it reads, queried on its own; an article's best is the best of its parts."""
    tables: dict[int, pa.Table] = {}  # a chunk read in stretches is converted once
    for rows, _, _ in parts:
        if id(rows) not in tables:
            tables[id(rows)] = to_arrow(rows, TERM_QUERY_SCHEMA)
    runs = [(tables[id(rows)], {"window_days": window_days, "floor": floor, "lo": lo, "hi": hi})
            for rows, lo, hi in parts if rows]
    if not runs:
        return []
    best: dict[str, tuple[float, str]] = {}  # each new article's (cosine, old_id), ties as SQL
    with connect(path) as con:
        for r in _fetch_each_on(con, "similar_articles", runs, SIMILAR_MEMORY_LIMIT):
            best[r["new_id"]] = max(best.get(r["new_id"], (0.0, "")),
                                    (r["m"]["cosine"], r["m"]["old_id"]))
        if not best:
            return []
        story = {r["article_id"]: r["story_id"] for r in _fetch_each_on(con, "story_of_articles", [
            (to_arrow([{"article_id": o} for _, o in best.values()], ID_SCHEMA), None)])}
    # A winner gone from articles is skipped, as the inner join in the query once skipped it.
    return [{"new_id": n, "old_id": o, "story_id": story[o], "cosine": c}
            for n, (c, o) in best.items() if o in story]


def save_stories(path: Path, placements: Sequence[dict[str, Any]],
                 buckets: Sequence[dict[str, Any]], terms: Sequence[dict[str, Any]],
                 df: Sequence[dict[str, Any]], touched_articles: Sequence[str]) -> None:
    """One transaction: where each article went, its LSH buckets and terms, the document
    frequencies, and the refreshed stories it and the touched articles belong to."""
    with transaction(path) as con:
        run_batch(con, "update_article_stories", to_arrow(placements, PLACEMENT_SCHEMA))
        run_batch(con, "insert_lsh_buckets", to_arrow(buckets, BUCKET_SCHEMA))
        run_batch(con, "insert_article_terms", to_arrow(terms, TERM_SCHEMA))
        if placements:
            run_batch(con, "add_term_df", to_arrow(df, DF_SCHEMA))
        ids = sorted({p["article_id"] for p in placements} | set(touched_articles))
        run_batch(con, "refresh_stories", to_arrow([{"article_id": a} for a in ids], ID_SCHEMA))


def run_report(path: Path, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """What a run added and what failed, read back from the warehouse for its report."""
    with connect(path, read_only=True) as con:
        return {part: _fetch(con, f"run_report_{part}", {"run_id": run_id})
                for part in ("stories", "matches", "failures")}


# --- Web pages: sandboxed read-only connections, one per request ----------------------------
# A page reads on one short connection and closes it before it renders. While it reads, a
# watchdog thread watches the turnstile: a read that has held the file for WEB_HOLD_S while a
# writer waits is interrupted, and runs again once the writer is in and out. So an ingest never
# waits for a page much longer than WEB_HOLD_S, whatever the page asks.

def sandbox(con: Any) -> None:
    """No file or network access from SQL (read_text, COPY … TO, ATTACH), and no setting may
    turn it back on: for an in-memory connection (a file's readers use sandboxed_reader)."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


WEB_MEMORY_LIMIT = "2GB"  # a query box's query cannot take the machine from the ingest
WEB_THREADS = 1  # a page's queries are small: one thread each (measured 0.77 of the time on a
#                  busy 2-core machine: no worker threads to start, wake and join)
WEB_HOLD_S = 0.25  # a page's read keeps a waiting writer out this long at most (budget: 1 s;
#                   a machine loaded 15× over its cores doubled the rest of the wait)
WEB_WATCH_S = 0.05  # how often the watchdog looks: adds at most this to a writer's wait
WEB_RETRIES = 25  # reads interrupted in a row before the page says busy (~one ingest run)


def writer_waiting(path: Path) -> bool:
    """Whether a writer is waiting for the file: it holds the turnstile closed meanwhile."""
    import fcntl

    try:
        f = path.with_name(path.name + ".turnstile").open("a+")
    except OSError:
        return False
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


class _Watchdog:
    """The open web connections of this process and when each opened; one daemon thread
    interrupts those that keep a waiting writer out too long."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.open: dict[int, tuple[Any, Path, float]] = {}
        self.thread: threading.Thread | None = None
        self.interrupts = 0  # how many reads it cut short (the bench prints it)

    def add(self, con: Any, path: Path) -> int:
        with self.cond:
            self.open[id(con)] = (con, path, time.monotonic())
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="web-read-watchdog",
                                               daemon=True)
                self.thread.start()
            self.cond.notify()
        return id(con)

    def remove(self, key: int) -> None:
        with self.cond:  # under the lock: no interrupt reaches a connection being closed
            self.open.pop(key, None)

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.open:
                    self.cond.wait()
                now = time.monotonic()
                waiting: dict[Path, bool] = {}
                for key, (con, path, opened) in list(self.open.items()):
                    if now - opened < WEB_HOLD_S:
                        continue
                    if path not in waiting:
                        waiting[path] = writer_waiting(path)
                    if waiting[path]:
                        con.interrupt()
                        del self.open[key]
                        self.interrupts += 1
            time.sleep(WEB_WATCH_S)


watchdog = _Watchdog()
# DuckDB shares one database instance among a process's connections to a file, and the first
# sandboxed one locks its configuration: a second opened meanwhile could not set its time zone.
# So a process's page reads take turns; each is short, and the file is let go in between.
_web_turn = threading.Lock()


@contextlib.contextmanager
def web_reader(path: Path, wait_s: float) -> Iterator[Any]:
    """A read-only, sandboxed connection for one web request; closed when the request's reads
    are done, so a page never holds the file between requests. Watched (see above)."""
    with _web_turn, sandboxed_reader(path, wait_s=wait_s, memory_limit=WEB_MEMORY_LIMIT,
                                     threads=WEB_THREADS) as con:
        key = watchdog.add(con, path) if isinstance(path, Path) else None
        try:
            yield con
        finally:
            if key is not None:
                watchdog.remove(key)


def _web_read(path: Path, wait_s: float, work: Callable[[Any], Any]) -> Any:
    """`work(con)` on one web connection. Interrupted because a writer waited, it runs again
    on a new connection, which opens once the writer is done."""
    for _ in range(WEB_RETRIES):
        with web_reader(path, wait_s) as con:
            try:
                return work(con)
            except duckdb.InterruptException:
                pass
    raise WarehouseBusy(f"{path}: writers interrupted this page's reads {WEB_RETRIES} times in "
                        f"a row. Reload in a moment.")


WEB_STATE_SETTLE_NS = 20_000_000  # mtimes tick coarsely (≤ 10 ms): newer ones are not trusted


def web_state(path: Target) -> tuple[Any, ...] | None:
    """What changes whenever a write commits to the file (its and its WAL's size and mtime),
    read without opening it: pages keep their reads under it. None (keep nothing) for a lake,
    or while the newest mtime is so recent that a write in the same clock tick could leave it
    as it is."""
    if not isinstance(path, Path):
        return None
    out: list[Any] = []
    for f in (path, path.with_name(path.name + ".wal")):
        try:
            st = f.stat()
            out += [st.st_size, st.st_mtime_ns, st.st_ino]
        except FileNotFoundError:
            out += [None, None, None]
    newest = max((t for t in out[1::3] if t is not None), default=0)
    return None if time.time_ns() - newest < WEB_STATE_SETTLE_NS else tuple(out)


def web_overview(path: Path, wait_s: float, since_day: datetime, new_since: datetime
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-topic totals, and per topic and day since `since_day` its matches and stories."""
    return _web_read(path, wait_s, lambda con: (
        _fetch(con, "web_topics", {"since_day": new_since}),
        _fetch(con, "web_topics_daily", {"since_day": since_day})))


def web_topic(path: Path, wait_s: float, topic: str, limit: int, offset: int
              ) -> dict[str, Any]:
    """A topic's matches and stories per day (and in total), one page of its stories and their
    matches."""
    def work(con: Any) -> dict[str, Any]:
        con.execute(_sql_for(con, "web_topic_hits"), {"topic": topic})  # read by the next three
        rows = _fetch(con, "web_topic_days")
        stories = _fetch(con, "web_topic_stories", {"topic": topic, "limit": limit,
                                                    "offset": offset})
        matches = _fetch(con, "web_topic_matches", {
            "story_ids": [s["story_id"] for s in stories]})
        total = next((r for r in rows if r["day"] is None), {"articles": 0, "stories": 0})
        return {"total": total, "days": [r for r in rows if r["day"] is not None],
                "stories": stories, "matches": matches}
    return _web_read(path, wait_s, work)


def web_story(path: Path, wait_s: float, story_id: str) -> dict[str, Any] | None:
    def work(con: Any) -> dict[str, Any] | None:
        found = _fetch(con, "web_story", {"story_id": story_id})
        if not found:
            return None
        p = {"story_id": story_id}
        return {"story": found[0], "articles": _fetch(con, "web_story_articles", p),
                "sightings": _fetch(con, "web_story_sightings", p),
                "versions": _fetch(con, "web_story_versions", p),
                "topics": _fetch(con, "web_story_topics", p)}
    return _web_read(path, wait_s, work)


def web_feeds(path: Path, wait_s: float, since: datetime, runs: int
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return _web_read(path, wait_s, lambda con: (
        _fetch(con, "web_feeds", {"since": since}), _fetch(con, "web_runs", {"limit": runs})))


def web_search_version(path: Path, wait_s: float, ids: Sequence[str] = ()
                       ) -> tuple[tuple[Any, ...], dict[str, dict[str, Any]] | None]:
    """The articles' state (web_search_version.sql), and on the same connection the articles
    `ids` as web_articles reads them (None for no ids)."""
    def work(con: Any) -> tuple[tuple[Any, ...], dict[str, dict[str, Any]] | None]:
        version = tuple(con.execute(_sql_for(con, "web_search_version")).fetchone())
        if not ids:
            return version, None
        rows = _fetch(con, "web_articles", {"ids": list(ids)})
        return version, {r["article_id"]: r for r in rows}
    return _web_read(path, wait_s, work)


def web_search_settled(path: Path, wait_s: float, newest: datetime) -> int:
    return _web_read(path, wait_s, lambda con: con.execute(
        _sql_for(con, "web_search_settled"), {"newest": newest}).fetchone()[0])


def web_search_changed(path: Path, wait_s: float, newest: datetime, updated: datetime | None
                       ) -> set[str]:
    return set(_web_read(path, wait_s, lambda con: [r[0] for r in con.execute(
        _sql_for(con, "web_search_changed"), {"newest": newest, "updated": updated}).fetchall()]))


def web_search_candidates(path: Path, wait_s: float, cnf: Sequence[Sequence[str]],
                          unsafe: str, other_languages: Sequence[str], chunk: int = 10_000,
                          changed_since: tuple[Any, Any] | None = None
                          ) -> Iterator[list[dict[str, Any]]]:
    """The articles that may match (see web_search_candidates.sql) with what the query
    language reads of them, `chunk` rows of the table per short read (a range of rowids:
    DuckDB skips the rest); the file is let go before a chunk is handed over, so an ingest
    never waits while a search judges it. `changed_since` (first seen, updated) narrows to
    the articles first seen or changed since then."""
    last = _web_read(path, wait_s, lambda con: con.execute(
        "SELECT coalesce(max(rowid), -1) FROM articles").fetchone()[0])
    newest, updated = changed_since or (None, None)
    for lo in range(0, last + 1, chunk):
        params = {"cnf": [list(c) for c in cnf], "unsafe": unsafe,
                  "other_languages": list(other_languages), "lo": lo, "hi": lo + chunk - 1,
                  "all": changed_since is None, "newest": newest, "updated": updated}
        yield _web_read(path, wait_s, lambda con, p=params: _fetch(  # type: ignore[misc]
            con, "web_search_candidates", p))


def fold_chars(codepoints: Sequence[int]) -> dict[int, str]:
    """Each character as the search prefilter's SQL folds it (an in-memory database)."""
    with duckdb.connect() as con:
        sandbox(con)
        return dict(con.execute(_sql_for(con, "fold_chars"),
                                {"codepoints": list(codepoints)}).fetchall())


def web_articles(path: Path, wait_s: float, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = _web_read(path, wait_s, lambda con: _fetch(con, "web_articles", {"ids": list(ids)}))
    return {r["article_id"]: r for r in rows}


# --- Topics --------------------------------------------------------------------------------

def topic_view_name(topic: str) -> str:
    """topics.trump_putin_contacts for trump-putin-contacts (names are [a-z0-9-], checked
    when the topics file is read, so the identifier needs no quoting)."""
    return topic.replace("-", "_")


def sync_topic_views(path: Path, topics: Sequence[str]) -> tuple[list[str], list[str]]:
    """Make schema `topics` hold exactly one view per topic of the topics file: create or
    replace each, drop those of topics no longer there. Returns (kept, dropped) view names."""
    template = sql("topic_view")
    with transaction(path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS topics")
        have = {r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'topics' "
            "AND database_name = current_database() AND NOT internal").fetchall()}
        want = {topic_view_name(t): t for t in topics}
        for view, topic in sorted(want.items()):
            con.execute(template.replace("{view}", view).replace("{topic}", topic))
        dropped = sorted(have - set(want))
        for view in dropped:
            con.execute(f"DROP VIEW IF EXISTS topics.{view}")
    return sorted(want), dropped


def article_for_label(path: Path, article_id: str, wait_s: float) -> list[dict[str, Any]]:
    # Takes the web's turn: a label clicked on a page is looked up in the web's process, whose
    # page reads hold the file with another (sandboxed) configuration meanwhile.
    with _web_turn, connect(path, read_only=True, wait_s=wait_s) as con:
        return _fetch(con, "article_for_label", {"article_id": article_id})


def articles_for_training(path: Path, article_ids: Sequence[str], wait_s: float
                          ) -> list[dict[str, Any]]:
    table = to_arrow([{"article_id": a} for a in article_ids], ID_SCHEMA)
    with connect(path, read_only=True, wait_s=wait_s) as con:
        con.register("batch", table)
        return _fetch(con, "articles_for_training")


# --- Moving a warehouse between backends ---------------------------------------------------

class CopyError(Exception):
    """The destination is not empty, or a table's count differed after the copy."""


def _attach_source(con: Any, source: Target) -> None:
    if isinstance(source, Lake):
        con.execute(f"ATTACH {_literal(source.attach_uri)} AS src "
                    f"(DATA_PATH {_literal(str(source.data_path))}, READ_ONLY)")
    else:
        con.execute(f"ATTACH {_literal(str(source))} AS src (READ_ONLY)")


def copy_warehouse(source: Target, dest: Target) -> list[tuple[str, int, int]]:
    """Copy every table of `source` into `dest` (DuckDB file → lake, or back), which is brought
    to the latest schema first and must hold no articles yet. Returns (table, rows in source,
    rows in dest) per table; raises CopyError if any differ. The source is only read."""
    migrate(dest)
    with turn(dest), connect(dest) as con:
        if not isinstance(dest, Lake):  # the file's connection needs the lake's extensions
            for ext in extension_paths():
                con.execute(f"LOAD '{ext}'")
        here = con.execute("SELECT current_database()").fetchone()[0]
        _attach_source(con, source)
        held = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        if held:
            raise CopyError(f"{dest} already holds {held} article(s); copy into a new, empty "
                            f"warehouse (a new catalog database and data path).")
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src' "
            "AND schema_name = 'main' AND table_name <> 'schema_migrations' "
            "ORDER BY table_name").fetchall()]
        counts = []
        for table in tables:
            con.execute("BEGIN TRANSACTION")
            con.execute(f'DELETE FROM "{here}".main.{table}')  # what a backfill may have made
            con.execute(f'INSERT INTO "{here}".main.{table} BY NAME '
                        f"SELECT * FROM src.main.{table}")
            con.execute("COMMIT")
            counts.append((table,
                           con.execute(f"SELECT count(*) FROM src.main.{table}").fetchone()[0],
                           con.execute(f'SELECT count(*) FROM "{here}".main.{table}'
                                       ).fetchone()[0]))
        con.execute("DETACH src")
    bad = [c for c in counts if c[1] != c[2]]
    if bad:
        raise CopyError("counts differ after the copy: " + ", ".join(
            f"{t} {a} → {b}" for t, a, b in bad))
    return counts
