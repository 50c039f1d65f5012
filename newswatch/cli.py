"""The `newswatch` command: run, serve, sql, status, check."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newswatch import orphans
from newswatch.config import ConfigError, load_config
from newswatch.memory import cap_malloc_arenas

if TYPE_CHECKING:
    from flows.prefect_api import PrefectApi

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

# Prefect reads its settings when first imported: quiet, offline-friendly defaults, unless the
# user set them. The temporary server needs more than the default 20 s on a fresh PREFECT_HOME
# on two cores.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}

HELP = """newswatch: ingest news feeds into DuckDB, watch topics, and alert.

commands:
  run      one ingest run now over the due feeds (--all-feeds: every feed; --shard i/N: one
           shard of the feeds, split by host)
  serve    run the ingest deployment on its schedule (every 15 min) in this process
           (--shards N: N ingests in parallel, the feeds split by host)
  sql      run a read-only SQL query on the warehouse and print the result
  status   feeds with their last outcome and next due time; warehouse counts
  check    validate the config, feeds and topics files and say what they hold
  topics   list topics; try a query over the warehouse; backfill a topic over history;
           label examples, train and evaluate a topic's relevance model
  web      the topics, stories and feeds as web pages (http://127.0.0.1:8050)

The config file is ./newswatch.toml unless --config or NEWSWATCH_CONFIG names another."""


def _cell(v: Any, width: int) -> str:
    if v is None:
        s = "NULL"
    elif isinstance(v, datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(v, date):
        s = v.isoformat()
    elif isinstance(v, float):
        s = f"{v:g}"
    else:
        s = " ".join(str(v).split())
    return s if len(s) <= width else s[: width - 1] + "…"


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], width: int = 60) -> str:
    """A plain aligned table: stable for scripts and tests, readable in any terminal."""
    cells = [[_cell(v, width) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _json_default(v: Any) -> str:
    return v.isoformat() if isinstance(v, date | datetime) else str(v)


def cmd_sql(args: argparse.Namespace) -> int:
    from warehouse import db

    cfg = load_config(args.config)
    path = cfg.warehouse_path
    if not path.exists():
        print(f"error: no warehouse at {path} yet. Run `newswatch run` first.", file=sys.stderr)
        return EXIT_ERROR
    try:
        columns, rows = db.read_query(path, args.query, wait_s=args.wait,
                                      allow_files=args.allow_files)
    except db.WarehouseBusy as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BUSY
    except db.duckdb.Error as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        print(json.dumps([dict(zip(columns, r, strict=True)) for r in rows],
                         default=_json_default, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    elif columns:
        print(format_table(columns, rows, args.max_width))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from warehouse import db

    cfg = load_config(args.config)
    path = cfg.warehouse_path
    if not path.exists():
        print(f"no warehouse at {path} yet: run `newswatch run`.")
        return EXIT_OK
    try:
        feeds, counts, failing = db.status(path, args.wait, cfg.alerts.max_attempts)
    except db.WarehouseBusy as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BUSY
    print(f"warehouse: {path}")
    last = counts.pop("last_run")
    print(f"last successful run: {_cell(last, 40) if last else 'never'}")
    print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))
    print()
    cols = ["feed", "last status", "reason", "last fetched", "next due", "errors", "articles"]
    rows = [[f["name"], f["last_status"] or "never polled", f["last_reason"],
             f["last_fetched_at"], f["next_due_at"], f["error_count"], f["articles"]]
            for f in feeds]
    print(format_table(cols, rows, 40))
    if failing:
        print("\nalert deliveries that failed")
        print(format_table(
            ["topic", "channel", "attempts", "state", "last error"],
            [[d["topic"], redact(d["channel"]), d["attempts"],
              "gave up" if d["gave_up"] else "will retry", d["last_error"]] for d in failing],
            60))
    return EXIT_OK


def redact(channel: str) -> str:
    """An Apprise URL without its credentials, path or query: safe to print."""
    from urllib.parse import urlsplit

    parts = urlsplit(channel)
    return f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else channel


def cmd_check(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    print(f"{cfg.path}: ok")
    print(f"  warehouse: {cfg.warehouse_path}")
    print(f"  feeds: {len(cfg.feeds)} ({sum(f.enabled for f in cfg.feeds)} enabled)")
    print(f"  topics: {', '.join(t.name for t in cfg.topics) or 'none'}")
    return EXIT_OK


def _progress_handler(console: Any) -> logging.Handler:
    class Progress(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            console.print(f"  [dim]·[/] {record.getMessage()}", highlight=False)

    return Progress()


def cmd_run(args: argparse.Namespace) -> int:

    from rich.console import Console
    from rich.table import Table

    from tasks.shards import ShardError, parse_shard

    cfg = load_config(args.config)  # fail fast on a bad config, before Prefect starts
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ShardError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    console = Console(soft_wrap=True)  # long paths and URLs stay whole for copy and paste
    console.print(f"newswatch: ingest run{f', shard {shard}' if shard else ''}, "
                  f"{len(cfg.feeds)} feed(s), "
                  f"{len(cfg.topics)} topic(s) → {cfg.warehouse_path}", highlight=False)
    started, called = time.perf_counter(), time.time()
    from flows.ingest import ingest
    from flows.prefect_api import prefect_api

    log = logging.getLogger("newswatch.progress")
    log.setLevel(logging.INFO)
    log.addHandler(_progress_handler(console))
    log.propagate = False
    apis: list[PrefectApi] = []

    def job() -> Any:
        with console.status("starting Prefect and running the flow…"), prefect_api() as api:
            apis.append(api)
            return asyncio.run(ingest(str(cfg.path), all_feeds=args.all_feeds,
                                      shard=args.shard))

    s, code = _writing_job(job)
    if s is None:
        return code
    t = Table(title=f"run {s.run_id}", title_justify="left")
    t.add_column("stage")
    t.add_column("result")
    t.add_column("seconds", justify="right")
    sec = s.stage_seconds
    rows = [
        ("feeds", f"{s.feeds_polled} polled, {s.feeds_failed} failed",
         sec.get("due-feeds", 0) + sec.get("fetch-feeds", 0) + sec.get("parse-feeds", 0)),
        ("entries", f"{s.entries_new} new", sec.get("keep-new-entries", 0)),
        ("pages", f"{s.pages_fetched} fetched, {s.pages_failed} failed, extracted as they "
                  f"arrived", sec.get("fetch-extract", 0) + sec.get("archive", 0)),
        ("extract", f"{s.extracted} extracted, {s.fallbacks} from summary, "
                    f"{s.no_article} without article", None),
        ("load", f"{s.articles_new} new articles, {s.duplicates} exact copies",
         sec.get("dedup", 0) + sec.get("load", 0)),
        ("stories", f"{s.near_duplicates} near-duplicates, {s.stories_new} new stories",
         sec.get("stories", 0)),
        ("topics", f"{s.matches_new} matches", sec.get("match-topics", 0)),
        ("alerts", f"{s.alerts_new} new, {s.deliveries_sent} deliveries sent, "
                   f"{s.deliveries_failed} failed",
         sec.get("record-alerts", 0) + sec.get("deliver-alerts", 0)),
    ]
    for name, result, seconds in rows:
        t.add_row(name, result, "(with pages)" if seconds is None else f"{seconds:.2f}")
    console.print(t)
    total = time.perf_counter() - started
    console.print(f"done in {total:.1f} s: the run's stages {s.body_seconds:.2f} s"
                  + (f" in {s.chunks} chunks" if s.chunks > 1 else "")
                  + f"; {prefect_startup(s.flow_started - called, apis[0])}", highlight=False)
    console.print("Query it: newswatch sql \"SELECT title, outlet FROM articles\"",
                  highlight=False)
    return EXIT_OK


def prefect_startup(seconds: float, api: PrefectApi) -> str:
    """What Prefect's start-up cost this run, and how to avoid paying it every time."""
    if not api.temporary:
        return f"Prefect start-up {seconds:.1f} s (the server at {api.url})"
    return (f"Prefect start-up {seconds:.1f} s (a temporary server for this run alone; "
            f"`newswatch serve` starts it once for every run, or set PREFECT_API_URL to a "
            f"running Prefect server)")


def _topic(cfg: Any, name: str) -> Any:
    topic = cfg.topic(name)
    if topic is None:
        raise ConfigError(f"{cfg.path}: no topic named {name!r} in {cfg.sources.topics} "
                          f"(topics: {cfg.topic_names()}).")
    return topic


def cmd_topics_list(args: argparse.Namespace) -> int:
    from tasks.labels import model_summary

    cfg = load_config(args.config)
    rows = []
    for t in cfg.topics:
        m = model_summary(cfg, t.name)
        model = ("none" if m is None else f"P {m['precision']:.2f} R {m['recall']:.2f}"
                 + (" (stale)" if m["stale"] else ""))
        rows.append([t.name, "yes" if t.enabled else "no", t.min_score, len(t.channels), model,
                     " ".join(t.query.split())])
    print(format_table(["topic", "enabled", "min score", "channels", "model", "query"], rows,
                       70))
    return EXIT_OK


def cmd_topics_test(args: argparse.Namespace) -> int:
    from tasks.backfill import try_query
    from tasks.labels import LabelError, model_for
    from tasks.topics import QueryError

    cfg = load_config(args.config)
    if bool(args.query) == bool(args.topic):
        print("error: give a QUERY or --topic NAME (one of them).", file=sys.stderr)
        return EXIT_USAGE
    topic = _topic(cfg, args.topic) if args.topic else None
    query = topic.query if topic else args.query
    if not cfg.warehouse_path.exists():
        print(f"error: no warehouse at {cfg.warehouse_path} yet. Run `newswatch run` first.",
              file=sys.stderr)
        return EXIT_ERROR
    try:
        model = model_for(cfg, topic) if topic else None
        out = try_query(cfg, query, topic.aliases if topic else None,
                        topic.min_score if topic else 0.0, args.limit, model)
    except QueryError as e:
        print(f"error: bad query: {e}", file=sys.stderr)
        return EXIT_USAGE
    except LabelError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    share = f" ({100 * out.matched / out.searched:.1f}%)" if out.searched else ""
    print(f"searched {out.searched} article(s), {out.matched} match{share}; nothing was saved")
    if model:
        print(f"the relevance model accepts {out.relevant} of them "
              f"(probability >= {model.threshold:g})")
    if out.per_day:
        print("\nmatches per day")
        print(format_table(["day", "matches"], sorted(out.per_day.items())))
        print(f"\ntop {len(out.top)} match(es)")
        for score, row, snippet, prob in out.top:
            day = row["published_at"].date().isoformat() if row["published_at"] else "undated"
            p = "" if prob is None else f"p={prob:.2f}{'*' if prob >= model.threshold else ' '} "
            print(f"{score:>5g}  {p}{day}  {row['outlet']}: {row['title']}")
            if snippet:
                print(f"       {snippet}")
        if model:
            print("\n(score: the query's; p: the relevance model's probability, * = accepted)")
    return EXIT_OK


def cmd_topics_label(args: argparse.Namespace) -> int:
    from tasks.labels import LabelError, add_label, labels_path, read_labels

    cfg = load_config(args.config)
    try:
        rec = add_label(cfg, args.name, args.article, args.answer,
                        args.by or os.environ.get("USER") or "cli", args.why or "")
    except LabelError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    path = labels_path(cfg, args.name)
    counts = Counter(r.label for r in read_labels(path))
    print(f"{args.name}: {rec.id} labelled {rec.label} ({rec.title or rec.url})")
    print(f"{path}: {counts['yes']} relevant, {counts['no']} not relevant, "
          f"{counts['either']} either")
    print(f"the next ingest run fits the model again; or now: newswatch topics train "
          f"{args.name}")
    return EXIT_OK


def cmd_topics_train(args: argparse.Namespace) -> int:
    from tasks.labels import LabelError, model_path, train_topic

    cfg = load_config(args.config)
    _topic(cfg, args.name)
    try:
        m, _ = train_topic(cfg, args.name)
    except LabelError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    cv = m.cv
    print(f"{args.name}: fitted on {m.positives} relevant and {m.negatives} other example(s)")
    print(f"threshold {m.threshold:g} for precision >= {m.target_precision:g}; "
          f"{cv['repeats']}x{cv['folds']}-fold cross-validated: precision {cv['precision']:.3f}, "
          f"recall {cv['recall']:.3f}, F1 {cv['f1']:.3f}")
    print(f"model: {model_path(cfg, args.name)}")
    return EXIT_OK


def cmd_topics_eval(args: argparse.Namespace) -> int:
    from tasks.labels import LabelError, evaluate_topic

    cfg = load_config(args.config)
    _topic(cfg, args.name)
    try:
        e = evaluate_topic(cfg, args.name, args.repeats)
    except LabelError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    m, q = e["model"], e["query"]
    print(f"{args.name}: {e['examples']} examples ({e['yes']} relevant, {e['no']} not relevant, "
          f"{e['either']} either: counted neither way); the query selects {e['candidates']}")
    print(f"{e['repeats']}x{e['folds']}-fold grouped cross-validation, threshold chosen inside "
          f"each training part\n")
    print(format_table(
        ["", "precision", "recall", "F1"],
        [["query + model", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}"],
         ["query only", f"{q['precision']:.3f}", f"{q['recall']:.3f}", f"{q['f1']:.3f}"]]))
    print("\nconfusion (query + model, mean per repeat)")
    print(format_table(
        ["", "judged relevant", "judged not"],
        [["relevant", f"{m['tp']:g}", f"{m['fn']:g}"],
         ["not relevant", f"{m['fp']:g}", f"{e['no'] - m['fp']:g}"]]))
    if e["missed"]:
        print("\nworst misses (relevant, judged not)")
        for key, title, p, selected in e["missed"][:args.show]:
            print(f"  p={p:.2f}  {key}  {title}" + ("" if selected else "  [query missed it]"))
    if e["false"]:
        print("\nworst false alarms (not relevant, judged relevant)")
        for key, title, p in e["false"][:args.show]:
            print(f"  p={p:.2f}  {key}  {title}")
    return EXIT_OK


def cmd_topics_backfill(args: argparse.Namespace) -> int:
    from tasks.backfill import backfill

    cfg = load_config(args.config)
    topic = _topic(cfg, args.name)
    if not cfg.warehouse_path.exists():
        print(f"error: no warehouse at {cfg.warehouse_path} yet. Run `newswatch run` first.",
              file=sys.stderr)
        return EXIT_ERROR
    done, code = _writing_job(lambda: backfill(cfg, topic, alert=args.alert))
    if done is None:
        return code
    stored, alerted = done
    print(f"{topic.name}: {stored} new match(es) stored, {alerted} alert(s)"
          + ("" if args.alert else " (backfill does not alert; --alert to send them)"))
    return EXIT_OK


def _writing_job(job: Callable[[], Any]) -> tuple[Any, int]:
    """Run a job that writes to the warehouse; say plainly when another one holds it."""
    from warehouse import db

    try:
        return job(), EXIT_OK
    except (db.RunInProgress, db.WarehouseBusy) as e:
        print(f"error: {e}", file=sys.stderr)
        return None, EXIT_BUSY


def cmd_digest(args: argparse.Namespace) -> int:
    from flows.digest import digest

    cfg = load_config(args.config)
    r, code = _writing_job(lambda: asyncio.run(digest(str(cfg.path))))
    if r:
        print(f"digest: {r.made} made, {r.sent} sent, {r.failed} failed")
    return code


def cmd_maintain(args: argparse.Namespace) -> int:
    from flows.maintenance import maintenance

    cfg = load_config(args.config)
    r, code = _writing_job(lambda: asyncio.run(maintenance(str(cfg.path))))
    if r:
        print(f"maintenance: checkpointed; {len(r.archive_days_deleted)} archive day(s) "
              f"deleted ({r.archive_bytes_freed} bytes), {r.records_unlinked} article "
              f"record(s) unlinked")
    return code


def cmd_reextract(args: argparse.Namespace) -> int:
    from tasks.reextract import reextract
    from warehouse import db

    cfg = load_config(args.config)

    def job() -> Any:
        with db.writer_lock(cfg.warehouse_path):
            return reextract(cfg)

    r, code = _writing_job(job)
    if r:
        print(f"reextract: {r.archived} archived article(s): {r.changed} changed, "
              f"{r.unchanged} unchanged, {r.no_article} without an article now (old text "
              f"kept), {r.missing} missing from the archive")
    return code


HOW = {"direct": "the address is a feed",
       "link_alternate": "announced by the page's <link rel=\"alternate\">",
       "common_path": "found at a usual feed path"}


def _feeds_file(cfg: Any) -> Path:
    return (cfg.root / cfg.sources.feeds).resolve()


def cmd_feeds_add(args: argparse.Namespace) -> int:
    from newswatch import feeds_file
    from tasks.discover import discover

    cfg = load_config(args.config)
    file = _feeds_file(cfg)
    d = asyncio.run(discover(cfg.fetch, args.url))
    if not d.found:
        print(f"error: no feed found at {args.url}: {d.error}. Give the feed's own address, "
              f"or check the site in a browser.", file=sys.stderr)
        return EXIT_ERROR
    first = d.found[0]
    if first.url in {f.url for f in cfg.feeds}:
        print(f"error: {first.url} is already in {file}.", file=sys.stderr)
        return EXIT_ERROR
    name = args.name or first.title or first.url
    feeds_file.append(file, [(name, first.url, args.outlet or "")])
    print(f"added {json.dumps(name, ensure_ascii=False)} {first.url} ({HOW[first.how]}) "
          f"to {file}")
    for other in d.found[1:]:
        print(f"also offered: {other.url} ({other.title or 'untitled'})")
    return EXIT_OK


def cmd_feeds_remove(args: argparse.Namespace) -> int:
    from newswatch import feeds_file

    cfg = load_config(args.config)
    file = _feeds_file(cfg)
    if not feeds_file.remove(file, args.url):
        print(f"error: no [[feed]] with url = \"{args.url}\" in {file}. "
              f"`newswatch feeds list` shows the urls.", file=sys.stderr)
        return EXIT_ERROR
    print(f"removed {args.url} from {file} (its articles stay in the warehouse)")
    return EXIT_OK


def cmd_feeds_import(args: argparse.Namespace) -> int:
    from newswatch import feeds_file

    cfg = load_config(args.config)
    file = _feeds_file(cfg)
    found, skipped = feeds_file.read_opml(Path(args.file))
    known = {f.url for f in cfg.feeds}
    new, seen = [], set()
    for title, url in found:
        if url not in known and url not in seen:
            new.append((title, url, ""))
            seen.add(url)
    if new:
        feeds_file.append(file, new)
    print(f"imported {len(new)} feed(s) from {args.file} into {file}; "
          f"{len(found) - len(new)} already listed, {skipped} outline(s) without xmlUrl "
          f"skipped")
    return EXIT_OK


def cmd_feeds_export(args: argparse.Namespace) -> int:
    from newswatch import feeds_file

    sys.stdout.write(feeds_file.to_opml(load_config(args.config).feeds))
    return EXIT_OK


def cmd_feeds_list(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    rows = [[f.name or "", f.outlet or "", "yes" if f.enabled else "no", f.url]
            for f in cfg.feeds]
    print(format_table(["name", "outlet", "enabled", "url"], rows, 80))
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.serve import serve_all

    cfg = load_config(args.config)
    shards = cfg.ingest.shards if args.shards is None else args.shards
    if shards < 1:
        print(f"error: --shards {shards}: serve at least one shard, e.g. --shards 2",
              file=sys.stderr)
        return EXIT_USAGE
    # A DuckDB file takes one writer at a time: shard runs side by side need a lake.
    if shards > 1 and cfg.warehouse.backend != "ducklake":
        print(f"error: --shards {shards}: the warehouse is a DuckDB file ({cfg.warehouse_path}),"
              f" which takes one writer at a time, so parallel shard ingests would refuse each "
              f"other. Set [warehouse] backend = \"ducklake\" in {cfg.path} (docs/scale-out.md)"
              f", or serve one shard (--shards 1).", file=sys.stderr)
        return EXIT_USAGE
    serve_all(str(cfg.path), shards)
    return EXIT_OK


def cmd_web(args: argparse.Namespace) -> int:
    from newswatch import web

    cfg = load_config(args.config)
    warning = web.host_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"newswatch web: http://{host}:{args.port}/ (read-only view of "
          f"{cfg.warehouse_path}; Ctrl-C stops it)", flush=True)
    web.serve(cfg, args.host, args.port)
    return EXIT_OK


def cmd_migrate_warehouse(args: argparse.Namespace) -> int:
    from warehouse import db
    from warehouse.lake import Lake, is_postgres

    cfg = load_config(args.config)
    source = cfg.warehouse_path
    if args.to == "ducklake":
        if not args.catalog:
            print("error: --to ducklake needs --catalog: a PostgreSQL connection string "
                  "(\"host=… dbname=… user=…\") or a DuckDB catalog file.", file=sys.stderr)
            return EXIT_USAGE
        catalog = args.catalog if is_postgres(args.catalog) else str(Path(args.catalog).resolve())
        data = args.data_path if "://" in args.data_path \
            else str(Path(args.data_path).resolve()) + "/"
        dest: Any = Lake(catalog, data)
        settings = (f'backend = "ducklake"\ncatalog = "{args.catalog}"\n'
                    f'data_path = "{args.data_path}"')
    else:
        if not args.path:
            print("error: --to duckdb needs --path: the new DuckDB file.", file=sys.stderr)
            return EXIT_USAGE
        dest = Path(args.path).resolve()
        if dest.exists():
            print(f"error: {dest} exists; name a new file.", file=sys.stderr)
            return EXIT_USAGE
        settings = f'backend = "duckdb"\npath = "{args.path}"'
    if not source.exists():
        print(f"error: no warehouse at {source} yet. Run `newswatch run` first.",
              file=sys.stderr)
        return EXIT_ERROR
    if str(source) == str(dest):
        print("error: the destination is the configured warehouse itself.", file=sys.stderr)
        return EXIT_USAGE
    try:
        counts = db.copy_warehouse(source, dest)
    except db.CopyError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    print(format_table(["table", "rows", "copied"], counts))
    print(f"copied {len(counts)} tables, {sum(c[2] for c in counts)} rows from {source} to "
          f"{dest}; every count verified.\nTo use it, set in [warehouse]:\n{settings}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newswatch", description=HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=os.environ.get("NEWSWATCH_CONFIG", "newswatch.toml"),
                   help="config file (default: ./newswatch.toml, or $NEWSWATCH_CONFIG)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser("run", help="one ingest run now",
                       description="Poll the due feeds, extract, deduplicate, load, match "
                                   "topics and deliver alerts; print a summary.")
    r.add_argument("--all-feeds", action="store_true",
                   help="poll every enabled feed, due or not")
    r.add_argument("--shard", default=None, metavar="I/N",
                   help="only the feeds of shard I of N (by host); on a DuckLake warehouse "
                        "the N shards run side by side")
    r.set_defaults(func=cmd_run)
    s = sub.add_parser("serve", help="run the schedules in this process",
                       description="Serve the deployments through Prefect until interrupted: "
                                   "ingest every 15 minutes (one run at a time), the digest "
                                   "daily at 07:00 UTC, maintenance daily at 03:30 UTC.")
    s.add_argument("--shards", type=int, metavar="N",
                   help="N ingests in parallel, the feeds split by host, each every 15 "
                        "minutes (needs a DuckLake warehouse); default: [ingest] shards")
    s.set_defaults(func=cmd_serve)
    mw = sub.add_parser("migrate-warehouse", help="copy the warehouse to another backend",
                        description="Copy every table of the configured warehouse into a new "
                                    "DuckLake (--to ducklake) or DuckDB file (--to duckdb), "
                                    "then verify each table's row count. The source is only "
                                    "read.")
    mw.add_argument("--to", choices=["ducklake", "duckdb"], required=True)
    mw.add_argument("--catalog", default="",
                    help="ducklake: a PostgreSQL connection string or a DuckDB catalog file")
    mw.add_argument("--data-path", default="data/lake",
                    help="ducklake: the folder for its Parquet files (default data/lake)")
    mw.add_argument("--path", default="", help="duckdb: the new file")
    mw.set_defaults(func=cmd_migrate_warehouse)
    d = sub.add_parser("digest", help="send the digests now",
                       description="Send each topic's digest of the stories alerted since "
                                   "its last one (topics with delivery = \"digest\" or "
                                   "\"both\", and alerts held by a rate cap).")
    d.set_defaults(func=cmd_digest)
    m = sub.add_parser("maintain", help="checkpoint, apply archive retention",
                       description="Checkpoint the warehouse and delete raw archive days "
                                   "older than [archive] retention_days.")
    m.set_defaults(func=cmd_maintain)
    q = sub.add_parser("sql", help="read-only SQL on the warehouse",
                       description="Run a read-only SQL query on the warehouse. Retries while "
                                   "an ingest run holds the file. The query sees the "
                                   "warehouse only: no other file, URL, ATTACH or extension, "
                                   "unless --allow-files.")
    q.add_argument("query", help='e.g. "SELECT title, outlet FROM articles"')
    q.add_argument("--format", choices=["table", "csv", "json"], default="table")
    q.add_argument("--max-width", type=int, default=60, help="truncate table cells (default 60)")
    q.add_argument("--wait", type=float, default=10.0,
                   help="seconds to wait for a running ingest to let go of the file")
    q.add_argument("--allow-files", action="store_true",
                   help="let the query read and write other files (COPY … TO, read_csv, "
                        "ATTACH) as you; for your own use at a shell")
    q.set_defaults(func=cmd_sql)
    st = sub.add_parser("status", help="feeds, last outcomes, counts",
                        description="Show each feed's last outcome and next due time, and "
                                    "warehouse counts.")
    st.add_argument("--wait", type=float, default=10.0)
    st.set_defaults(func=cmd_status)
    c = sub.add_parser("check", help="validate the config files",
                       description="Load and validate the config, feeds and topics files.")
    c.set_defaults(func=cmd_check)
    t = sub.add_parser("topics", help="list, try, backfill and teach topics",
                       description="Work with the topics file's topics.")
    tsub = t.add_subparsers(dest="topics_command", metavar="ACTION", required=True)
    tl = tsub.add_parser("list", help="the topics and their queries",
                         description="List the topics with their queries.")
    tl.set_defaults(func=cmd_topics_list)
    tt = tsub.add_parser("test", help="try a query over the warehouse, saving nothing",
                         description="Run QUERY (or a topic's query) over every stored article "
                                     "and show counts, matches per day and the best matches. "
                                     "Nothing is saved.")
    tt.add_argument("query", nargs="?", help='a query, e.g. \'"trump putin"~12 AND call*\'')
    tt.add_argument("--topic", help="use this topic's query, aliases and minimum score")
    tt.add_argument("--limit", type=int, default=10, help="top matches to show (default 10)")
    tt.set_defaults(func=cmd_topics_test)
    tb = tsub.add_parser("backfill", help="store a topic's matches over history",
                         description="Match every stored article against topic NAME and store "
                                     "the matches. No alerts are sent unless --alert.")
    tb.add_argument("name", help="the topic's name")
    tb.add_argument("--alert", action="store_true", help="also alert the new matches")
    tb.set_defaults(func=cmd_topics_backfill)
    tlab = tsub.add_parser("label", help="add a labelled example to a topic",
                           description="Label a stored article (its id, as alerts and "
                                       "`topics test` show it) relevant or not to topic NAME. "
                                       "The example is appended to the topic's labels file; "
                                       "its text stays in the warehouse.")
    tlab.add_argument("name", help="the topic's name")
    tlab.add_argument("article", help="the article's id")
    tlab.add_argument("answer", choices=["yes", "no"], help="is the topic its subject?")
    tlab.add_argument("--by", help="who labelled it (default: $USER)")
    tlab.add_argument("--why", help="a few words of reason, kept with the label")
    tlab.set_defaults(func=cmd_topics_label)
    ttr = tsub.add_parser("train", help="fit a topic's relevance model",
                          description="Fit topic NAME's relevance model on its labelled "
                                      "examples, choose its threshold for the topic's "
                                      "target_precision by cross-validation, and store it.")
    ttr.add_argument("name", help="the topic's name")
    ttr.set_defaults(func=cmd_topics_train)
    tev = tsub.add_parser("eval", help="cross-validated precision and recall of a topic",
                          description="Cross-validate topic NAME as it runs (query and "
                                      "model) on its labelled examples; print precision, "
                                      "recall, F1, a confusion table and the worst errors.")
    tev.add_argument("name", help="the topic's name")
    tev.add_argument("--repeats", type=int, default=5, help="repeats of 5-fold CV (default 5)")
    tev.add_argument("--show", type=int, default=10, help="errors listed per kind (default 10)")
    tev.set_defaults(func=cmd_topics_eval)
    rx = sub.add_parser("reextract", help="extract again from the raw archive",
                        description="Run extraction again over the archived responses of the "
                                    "stored articles, fetching nothing; changed text replaces "
                                    "the stored text.")
    rx.set_defaults(func=cmd_reextract)
    w = sub.add_parser("web", help="the warehouse as web pages",
                       description="Serve the topics overview, topic, story, feeds and search "
                                   "pages. Pages read the warehouse read-only, one short "
                                   "connection per request. There is no login: it binds to "
                                   "127.0.0.1 unless --host says otherwise.")
    w.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    w.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    w.set_defaults(func=cmd_web)
    fe = sub.add_parser("feeds", help="add, import, export, list and remove feeds",
                        description="Edit the feeds file the config names (comments kept).")
    fsub = fe.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    fa = fsub.add_parser("add", help="add a feed, discovering it from a site's page",
                         description="Add URL's feed: URL itself when it is a feed, else the "
                                     "feed its page announces, else one at a usual path.")
    fa.add_argument("url")
    fa.add_argument("--name", help="the feed's name (default: its title)")
    fa.add_argument("--outlet", help="the publication's name")
    fa.set_defaults(func=cmd_feeds_add)
    fi = fsub.add_parser("import", help="add the feeds of an OPML file",
                         description="Add every feed of an OPML file not yet listed.")
    fi.add_argument("file")
    fi.set_defaults(func=cmd_feeds_import)
    fx = fsub.add_parser("export", help="print the feeds as OPML",
                         description="Print the feeds as OPML 2.0 for another reader.")
    fx.set_defaults(func=cmd_feeds_export)
    fl = fsub.add_parser("list", help="the feeds", description="List the feeds.")
    fl.set_defaults(func=cmd_feeds_list)
    fr = fsub.add_parser("remove", help="remove a feed by its url",
                         description="Remove the feed with this url from the feeds file; "
                                     "what it stored stays in the warehouse.")
    fr.add_argument("url")
    fr.set_defaults(func=cmd_feeds_remove)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    for k, v in PREFECT_DEFAULTS.items():
        os.environ.setdefault(k, v)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    if args.command in orphans.COMMANDS:
        cap_malloc_arenas()  # before Prefect's and DuckDB's threads start
        orphans.watch()  # what this command starts (Prefect's server) dies with it, kill -9 too
    try:
        return args.func(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())

