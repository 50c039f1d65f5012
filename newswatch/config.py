"""Configuration: `newswatch.toml` plus the feeds and topics files it names.

Every section is a frozen dataclass whose defaults are the documented defaults; each tuning
number carries its reason beside it. Loading is strict: an unknown key, a wrong type or a value
out of range stops with a `ConfigError` that names the file, the line, the key and the fix.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warehouse.lake import Lake, is_postgres

DEFAULT_CONFIG = "newswatch.toml"
DELIVERY_MODES = ("instant", "digest", "both")
EXTRACT_RUNNERS = ("processes", "dask")


class ConfigError(Exception):
    """A mistake in a config file, with the message a user needs to fix it."""


def _n(default: Any, why: str, minimum: float | None = None, maximum: float | None = None) -> Any:
    return field(default=default, metadata={"why": why, "min": minimum, "max": maximum})


@dataclass(frozen=True)
class WarehouseConfig:
    path: str = _n("data/newswatch.duckdb", "the DuckDB file; relative to this config file")
    lock_wait_s: float = _n(
        30.0, "a reader (duckdb -readonly, newswatch sql) may hold the file briefly", 0, 3600
    )
    backend: str = _n("duckdb", "one DuckDB file (one writer); \"ducklake\" for many machines")
    catalog: str = _n("", "ducklake: a PostgreSQL connection string, or a DuckDB catalog file")
    data_path: str = _n("data/lake", "ducklake: the folder its Parquet files go to")


@dataclass(frozen=True)
class SourcesConfig:
    feeds: str = _n("seeds/feeds.toml", "the feeds file; relative to this config file")
    topics: str = _n("seeds/topics.toml", "the topics file; relative to this config file")
    labels: str = _n("seeds/labels", "each topic's labelled examples, <topic>.jsonl")
    models: str = _n("seeds/models", "each topic's fitted relevance model, <topic>.json")


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = _n(
        "newswatch/0.1 (+https://github.com/newswatch/newswatch)",
        "sites block anonymous clients; say who we are and where to complain",
    )
    connect_timeout_s: float = _n(10.0, "a host that takes longer to accept is down", 0.1, 300)
    read_timeout_s: float = _n(20.0, "longest silence between two chunks of a body", 0.1, 600)
    total_timeout_s: float = _n(
        60.0, "a slow-drip body cannot hold a run hostage (from the host's turn, not the queue)",
        0.1, 3600)
    max_feed_bytes: int = _n(10_000_000, "the largest real feeds are ~5 MB", 1024)
    max_page_bytes: int = _n(5_000_000, "news pages are ~80 KB median, 2 MB at worst", 1024)
    max_redirects: int = _n(5, "real chains are 1-3 hops; more is a loop or a trap", 0, 30)
    per_host_concurrency: int = _n(2, "politeness: two open requests per host at most", 1, 64)
    per_host_interval_s: float = _n(
        0.25, "politeness: 4 requests a second per host at most; 100 new pages take 25 s",
        0, 60)
    max_retries: int = _n(
        2, "two more tries catch a blip (reset, 502, 503); more would hammer a sick host", 0, 10)
    retry_backoff_s: float = _n(
        1.0, "first retry after ~1 s, then ~2 s, ±50% jitter so clients do not retry in step",
        0, 60)
    max_retry_after_s: float = _n(
        60.0, "a run waits at most a minute for a host that asked; a longer Retry-After is "
        "kept for the next run instead", 0, 3600)
    total_concurrency: int = _n(32, "two cores parse what 32 sockets deliver", 1, 1024)
    poll_interval_min: int = _n(15, "the schedule's period; a feed is due once per run", 1)
    max_page_attempts: int = _n(5, "a page that failed 5 runs in a row is given up", 1, 100)
    allow_private_networks: bool = _n(
        False, "off: a feed must not turn us against the local network; on for tests/intranets"
    )
    allowed_networks: str = _n(
        "", "with allow_private_networks: comma-separated CIDRs it opens (empty: all), e.g. "
        "\"10.1.0.0/16\" for one intranet")
    unconditional_every: int = _n(
        12, "every 12th poll (3 h) sends no ETag/Last-Modified: a server that answers 304 to a "
        "changed feed cannot hide it for longer", 1, 1000)
    max_interval_min: int = _n(
        360, "a feed's ttl/sy:updatePeriod may slow its polling, to every 6 h at most: news "
        "breaks", 1)
    max_backoff_min: int = _n(
        1440, "a failing feed slows down to once a day; it is never given up", 1)
    offline_min_hosts: int = _n(
        2, "when every feed on 2+ hosts fails at the network level the fault is ours: the run is "
        "recorded offline and no feed is penalised", 1)


@dataclass(frozen=True)
class IngestConfig:
    chunk_pages: int = _n(
        200, "pages held at once (~80 KB each, with their texts and fingerprints: ~40 MB); a "
        "run stores them chunk by chunk, so memory does not grow with a backlog and a crash "
        "loses at most one chunk, which the next run redoes", 10, 100_000)
    chunk_feeds: int = _n(
        500, "feeds polled at once (~50 KB a body, ~30 entries: ~50 MB with their entries "
        "parsed); a run polls its feeds batch by batch, so a long feed list is not held whole",
        10, 100_000)
    shards: int = _n(
        1, "one machine, one ingest over every feed; N splits the feeds by host over N "
        "parallel ingests (`newswatch serve`), for a DuckLake warehouse with many writers",
        1, 1024)


@dataclass(frozen=True)
class ExtractConfig:
    min_article_chars: int = _n(
        250, "trafilatura returns boilerplate from pages with no article; below this it is none", 1
    )
    min_summary_chars: int = _n(40, "a shorter feed summary is a teaser, not a fallback text", 1)
    pool_threshold: int = _n(
        24, "workers cost ~0.4 s of a core to start (the forkserver's imports and warm-up) "
        "and ~70 MB each; smaller batches extract in-process", 1
    )
    workers: int = _n(0, "extraction processes (LocalCluster workers with runner = \"dask\"); "
                      "0 means one per core", 0, 256)
    runner: str = _n(
        "processes", "where pages extract: \"processes\" (this machine's cores, a forkserver "
        "pool) or \"dask\" (Prefect's DaskTaskRunner, spreading over a cluster's machines)")
    dask_address: str = _n(
        "", "with runner = \"dask\": a scheduler's address, e.g. \"tcp://10.0.0.5:8786\"; "
        "empty starts a distributed.LocalCluster of `workers` processes for the run")
    dask_batch: int = _n(
        16, "pages per Dask task: ~1.3 MB and ~0.3 s of work, so Prefect's cost per task "
        "(~3 ms, ~20 KB of server rows) stays small while a chunk of 200 spreads over 13 tasks",
        1, 10_000)


@dataclass(frozen=True)
class StoriesConfig:
    near_duplicate: float = _n(
        0.8, "share of the shorter text's 5-word shingles inside the longer: a trimmed or "
        "padded copy scores ~1, another outlet's own report of the event < 0.2", 0.05, 1.0)
    minhash_perm: int = _n(
        64, "64 hash functions find Jaccard >= 0.7 pairs 99% of the time", 8, 512)
    lsh_bands: int = _n(16, "16 bands of 4 rows: few false candidates below Jaccard 0.3", 1, 256)
    similarity: float = _n(
        0.2, "tf-idf cosine at which another outlet's report joins a story (BASIL: F1 0.976)",
        0.0, 1.0)
    window_days: int = _n(
        3, "reports of one event come within 3 days of each other (BASIL: 98%)", 0, 60)
    top_terms: int = _n(
        40, "an article's 40 strongest terms carry its event; more cost joins", 5, 500)


@dataclass(frozen=True)
class AlertsConfig:
    log: str = _n("data/alerts.jsonl", "JSON-lines alert log; relative to this config file")
    terminal: bool = _n(True, "print each alert when it is delivered")
    max_attempts: int = _n(
        10, "a channel down for 10 runs (2.5 h at 15 min) needs a person, not more retries", 1
    )
    follow_up_outlets: int = _n(
        0, "0 = off; N sends one follow-up when a story alerted with fewer reaches N outlets",
        0, 1000)
    max_per_topic_per_hour: int = _n(
        20, "past 20 alerts an hour a topic floods its channel; the rest go to the digest", 1)
    digest_max_stories: int = _n(
        50, "nobody reads a longer digest; the stories past it are counted, not listed", 1)


@dataclass(frozen=True)
class ArchiveConfig:
    dir: str = _n("data/archive", "raw WARC records of fetched pages; relative to this file")
    retention_days: int = _n(
        90, "re-extraction needs recent pages; 90 days of WARCs is ~1 GB per 100 feeds", 1)


@dataclass(frozen=True)
class DedupConfig:
    syndication_partners: str = _n(
        "", "sites whose pages may name each other's URL as canonical, groups split by ';', "
        "e.g. \"apnews.com wtop.com; reuters.com yahoo.com\"; none by default: a claim across "
        "sites is trusted only for a stored copy with the same text")

    def partners(self) -> dict[str, frozenset[str]]:
        from tasks.canonical import parse_partners

        return parse_partners(self.syndication_partners)


@dataclass(frozen=True)
class FeedSpec:
    url: str
    name: str = ""
    outlet: str = ""
    local: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class TopicSpec:
    name: str
    query: str
    description: str = ""
    channels: tuple[str, ...] = ()
    enabled: bool = True
    min_score: float = 0.0  # a match scoring less is not stored (see FIELD_WEIGHTS)
    delivery: str = "instant"  # instant, digest (only in the digest) or both
    max_alerts_per_hour: int | None = None  # None: [alerts] max_per_topic_per_hour
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # With a relevance model (labels/<name>.jsonl, models/<name>.json beside the topics
    # file): the precision the model's threshold is chosen for. 0.9: one false alert in ten is
    # what users of commercial monitors accept before they stop reading alerts.
    target_precision: float = 0.9

    def __hash__(self) -> int:
        return hash((self.name, self.query))


@dataclass(frozen=True)
class Config:
    path: Path
    warehouse: WarehouseConfig
    sources: SourcesConfig
    fetch: FetchConfig
    ingest: IngestConfig
    extract: ExtractConfig
    alerts: AlertsConfig
    stories: StoriesConfig
    archive: ArchiveConfig
    dedup: DedupConfig
    feeds: tuple[FeedSpec, ...]
    topics: tuple[TopicSpec, ...]

    @property
    def root(self) -> Path:
        return self.path.parent

    def topic(self, name: str) -> TopicSpec | None:
        return next((t for t in self.topics if t.name == name), None)

    def topic_names(self) -> str:
        """The topics, for an error that names an unknown one."""
        return ", ".join(t.name for t in self.topics) or "none"

    @property
    def warehouse_path(self) -> Path | Lake:
        """Where the warehouse is: the DuckDB file, or the lake (catalog + data path)."""
        w = self.warehouse
        if w.backend == "ducklake":
            catalog = w.catalog if is_postgres(w.catalog) \
                else str((self.root / w.catalog).resolve())
            data = w.data_path if "://" in w.data_path \
                else str((self.root / w.data_path).resolve()) + "/"
            return Lake(catalog, data)
        return (self.root / w.path).resolve()

    @property
    def alert_log_path(self) -> Path:
        return (self.root / self.alerts.log).resolve()

    @property
    def archive_dir(self) -> Path:
        return (self.root / self.archive.dir).resolve()

    def local_roots(self) -> tuple[Path, ...]:
        """Folders that file:// URLs may read from: those of feeds marked local."""
        return tuple(
            sorted({Path(urlsplit(f.url).path).parent.parent for f in self.feeds if f.local})
        )


SECTIONS: dict[str, type] = {
    "warehouse": WarehouseConfig,
    "sources": SourcesConfig,
    "fetch": FetchConfig,
    "ingest": IngestConfig,
    "extract": ExtractConfig,
    "alerts": AlertsConfig,
    "stories": StoriesConfig,
    "archive": ArchiveConfig,
    "dedup": DedupConfig,
}


def _line_of(text: str, key: str, section: str | None = None) -> int | None:
    """The 1-based line where `key` is assigned (inside `[section]` when given)."""
    in_section = section is None
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            name = s.strip("[]").strip()
            if section is None and name.split(".")[-1] == key:  # a sub-table: [topic.aliases]
                return i
            in_section = section is None or name == section
            continue
        if in_section and re.match(rf'"?{re.escape(key)}"?\s*=', s):
            return i
    return None


def _where(file: Path, text: str, key: str, section: str | None) -> str:
    line = _line_of(text, key, section)
    return f"{file}, line {line}" if line else str(file)


def _read_toml(file: Path) -> tuple[dict[str, Any], str]:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: no such file. Create it or point --config / NEWSWATCH_CONFIG at one."
        ) from None
    except IsADirectoryError:  # found by fuzzing: [sources] feeds = "" names the config's folder
        raise ConfigError(f"{file}: is a folder, not a file. Name the file itself (e.g. "
                          f"feeds = \"seeds/feeds.toml\").") from None
    except OSError as e:
        raise ConfigError(f"{file}: cannot be read ({e.strerror}). Check its permissions."
                          ) from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8 ({e.reason}). Save it as UTF-8.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: invalid TOML: {e}. Fix the syntax there.") from None


def _check_value(
    file: Path, text: str, section: str, f: dataclasses.Field[Any], value: Any
) -> Any:
    key = f"{section}.{f.name}"
    where = _where(file, text, f.name, section)
    expected = type(f.default)
    ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(
            f"{where}: {key} must be a {_type_word(expected)}, got {value!r}. "
            f"Write e.g. {f.name} = {_toml_repr(f.default)} (the default)."
        )
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise ConfigError(
            f"{where}: {key} = {value!r} is out of range; it must be {bounds} "
            f"(default {_toml_repr(f.default)}: {f.metadata['why']})."
        )
    return value


def _type_word(t: type) -> str:
    return {bool: "boolean", int: "whole number", float: "number", str: "string"}[t]


def _toml_repr(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


def _unknown(file: Path, text: str, key: str, known: list[str], section: str | None) -> ConfigError:
    full = f"{section}.{key}" if section else key
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"Did you mean '{close[0]}'? " if close else ""
    return ConfigError(
        f"{_where(file, text, key, section)}: unknown key '{full}'. {hint}"
        f"Known keys{' in [' + section + ']' if section else ''}: {', '.join(sorted(known))}."
    )


def _build_section(file: Path, text: str, section: str, cls: type, table: Any) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(file, text, section, None)}: [{section}] must be a table.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise _unknown(file, text, key, list(fields), section)
        values[key] = _check_value(file, text, section, fields[key], value)
    return cls(**values)


BACKENDS = ("duckdb", "ducklake")


def _check_backend(file: Path, text: str, w: WarehouseConfig) -> None:
    if w.backend not in BACKENDS:
        raise ConfigError(
            f"{_where(file, text, 'backend', 'warehouse')}: warehouse.backend = {w.backend!r} "
            f"is not one of {', '.join(BACKENDS)}. Write backend = \"duckdb\" (one file) or "
            f"\"ducklake\" (with catalog and data_path).")
    if w.backend == "ducklake" and not w.catalog:
        raise ConfigError(
            f"{_where(file, text, 'backend', 'warehouse')}: warehouse.backend = \"ducklake\" "
            f"needs a catalog: a PostgreSQL connection string (catalog = \"host=db.example "
            f"dbname=lake user=newswatch\") or a DuckDB catalog file (catalog = "
            f"\"data/lake.ducklake\", one process at a time).")


def load_config(path: str | Path | None = None) -> Config:
    file = Path(path or DEFAULT_CONFIG).resolve()
    data, text = _read_toml(file)
    for key in data:
        if key not in SECTIONS:
            raise _unknown(file, text, key, list(SECTIONS), None)
    parts = {name: _build_section(file, text, name, cls, data.get(name, {}))
             for name, cls in SECTIONS.items()}
    for net in filter(None, (n.strip() for n in parts["fetch"].allowed_networks.split(","))):
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(
                f"{_where(file, text, 'allowed_networks', 'fetch')}: fetch.allowed_networks: "
                f"{net!r} is not a network. Write CIDRs separated by commas, e.g. "
                f'allowed_networks = "10.1.0.0/16, 192.168.5.0/24".') from None
    _check_backend(file, text, parts["warehouse"])
    try:
        parts["dedup"].partners()
    except ValueError as e:
        raise ConfigError(
            f"{_where(file, text, 'syndication_partners', 'dedup')}: "
            f"dedup.syndication_partners: {e.args[0]!r} is not a site's registrable domain. "
            f"Name sites as bbc.co.uk or apnews.com (no www., no scheme), groups split by "
            f"';'.") from None
    runner = parts["extract"].runner
    if runner not in EXTRACT_RUNNERS:
        raise ConfigError(
            f"{_where(file, text, 'runner', 'extract')}: extract.runner = {runner!r} is not a "
            f"runner. Write runner = \"processes\" (this machine's cores, the default) or "
            f"runner = \"dask\" (a Dask cluster: [extract] dask_address).")
    sources: SourcesConfig = parts["sources"]
    feeds = load_feeds(file.parent / sources.feeds)
    topics = load_topics(file.parent / sources.topics)
    return Config(path=file, feeds=feeds, topics=topics, **parts)


def _entries(file: Path, text: str, data: dict[str, Any], table: str,
             others: tuple[str, ...] = ()) -> list[tuple[int, dict]]:
    for key in data:
        if key != table:
            raise _unknown(file, text, key, [table, *others], None)
    items = data.get(table, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{file}: '{table}' must be written as [[{table}]] tables.")
    return list(enumerate(items, 1))


def _item_fields(
    file: Path, text: str, table: str, n: int, item: dict, cls: type, required: tuple[str, ...]
) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    label = f"[[{table}]] #{n}"
    for key, value in item.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"Did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                f"{_where(file, text, key, None)}: unknown key '{key}' in {label}. {hint}"
                f"Known keys: {', '.join(sorted(fields))}."
            )
        kind = _ITEM_TYPES[str(fields[key].type)]
        if not kind[1](value):
            raise ConfigError(
                f"{_where(file, text, key, None)}: {key} in {label} must be {kind[0]}.")
    for key in required:
        if not str(item.get(key, "")).strip():
            raise ConfigError(f"{file}: {label} has no '{key}'. Add {key} = \"…\" to it.")
    return {k: v if str(fields[k].type) == "int | None" else _frozen(v) for k, v in item.items()}


def _strings(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)


_ITEM_TYPES: dict[str, tuple[str, Any]] = {
    "str": ("a string", lambda v: isinstance(v, str)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "int | None": ("a whole number >= 1",
                   lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1),
    "tuple[str, ...]": ("a list of strings", _strings),
    "dict[str, tuple[str, ...]]": (
        'a table of lists of strings, e.g. [topic.aliases] putin = ["Vladimir Putin", "Putin"]',
        lambda v: isinstance(v, dict) and all(_strings(x) for x in v.values()),
    ),
}


def _frozen(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(v)
    if isinstance(v, dict):
        return {k: tuple(x) for k, x in v.items()}
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def load_feeds(file: Path) -> tuple[FeedSpec, ...]:
    data, text = _read_toml(file)
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    for n, item in _entries(file, text, data, "feed"):
        values = _item_fields(file, text, "feed", n, item, FeedSpec, ("url",))
        url = values["url"].strip()
        scheme = urlsplit(url).scheme.lower()
        if values.get("local"):
            if scheme not in ("", "file"):
                raise ConfigError(
                    f"{_where(file, text, 'url', None)}: [[feed]] #{n} is local but its url "
                    f"{url!r} is not a file path. Give a path, or remove local = true."
                )
            p = Path(urlsplit(url).path) if scheme == "file" else Path(url)
            p = (file.parent / p).resolve()
            if not p.is_file():
                raise ConfigError(f"{file}: [[feed]] #{n}: local file {p} does not exist.")
            url = p.as_uri()
        elif scheme not in ("http", "https"):
            raise ConfigError(
                f"{_where(file, text, 'url', None)}: [[feed]] #{n} url {url!r} must start with "
                f"http:// or https:// (or set local = true for a file on this machine)."
            )
        if url in seen:
            raise ConfigError(f"{file}: [[feed]] #{n}: {url} is listed twice. Remove one.")
        seen.add(url)
        values["url"] = url
        feeds.append(FeedSpec(**values))
    return tuple(feeds)


def load_topics(file: Path) -> tuple[TopicSpec, ...]:
    from tasks.topics import QueryError, parse_query  # topics own the query language

    data, text = _read_toml(file)
    shared = data.pop("aliases", {})
    if not _ITEM_TYPES["dict[str, tuple[str, ...]]"][1](shared):
        raise ConfigError(f"{_where(file, text, 'aliases', None)}: [aliases] must be a table "
                          f'of lists of strings, e.g. putin = ["Vladimir Putin", "Putin"].')
    topics: list[TopicSpec] = []
    names: set[str] = set()
    for n, item in _entries(file, text, data, "topic", ("aliases",)):
        values = _item_fields(file, text, "topic", n, item, TopicSpec, ("name", "query"))
        values["aliases"] = {**_frozen(shared), **values.get("aliases", {})}
        name = values["name"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise ConfigError(
                f"{_where(file, text, 'name', None)}: topic name {name!r} must be lower-case "
                f"letters, digits and dashes, e.g. 'trump-putin-contacts'."
            )
        if name in names:
            raise ConfigError(f"{file}: topic {name!r} is defined twice. Rename or remove one.")
        names.add(name)
        if values.get("delivery", "instant") not in DELIVERY_MODES:
            raise ConfigError(
                f"{_where(file, text, 'delivery', None)}: topic {name!r} delivery "
                f"{values['delivery']!r} is not one of {', '.join(DELIVERY_MODES)}. "
                f'Write delivery = "digest" to get this topic only in the digest.')
        if not 0.0 < values.get("target_precision", 0.9) < 1.0:
            raise ConfigError(
                f"{_where(file, text, 'target_precision', None)}: topic {name!r} "
                f"target_precision must be between 0 and 1, e.g. 0.9.")
        try:
            parse_query(values["query"], values["aliases"])
        except QueryError as e:
            raise ConfigError(f"{file}: topic {name!r}: {e}") from None
        topics.append(TopicSpec(**values))
    return tuple(topics)
