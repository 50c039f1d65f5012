"""Scale-out benchmark: 1, 2 and 4 shard workers (`newswatch run --shard k/N`, N processes at
once) over the same simulated world into one DuckLake whose catalog is a real PostgreSQL server,
beside one process into a DuckDB file (the embedded default) on the same world, same run.

The world is extract_bench's: Mozilla Readability's 130 real pages (NEWSWATCH_CORPUS), copied
with shuffled words to reach --pages, served by a separate process on 20 loopback hosts with one
feed each (politeness off: this measures the pipeline, not the pauses). All processes talk to
one Prefect server started here, so no run pays for a temporary one. For each setting it
prints the wall time from the first start to the last finish, articles/s, the ratio to the
DuckDB file, the slowest shard's body time and the peak RSS of all processes together.

    NEWSWATCH_CORPUS=../shared/corpus python bench/scale_bench.py [--pages 4000] [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.extract_bench import build_site, serve, tree_rss_kb  # noqa: E402
from tests import postgres  # noqa: E402


def write_config(folder: Path, feeds: list[str], warehouse: str) -> Path:
    (folder / "feeds.toml").write_text("".join(
        f'[[feed]]\nname = "host {i}"\nurl = "{u}"\n\n' for i, u in enumerate(feeds)))
    (folder / "topics.toml").write_text((ROOT / "seeds" / "topics.toml").read_text())
    cfg = folder / "newswatch.toml"
    cfg.write_text(
        f'[warehouse]\npath = "nw.duckdb"\n{warehouse}[sources]\nfeeds = "feeds.toml"\n'
        'topics = "topics.toml"\n[alerts]\nlog = "alerts.jsonl"\nterminal = false\n'
        '[fetch]\nallow_private_networks = true\nallowed_networks = "127.0.0.0/8"\n'
        "per_host_interval_s = 0.0\ntotal_concurrency = 40\n")
    return cfg


def run_shards(cfg: Path, n: int, api_url: str) -> tuple[float, int]:
    """N shard processes at once; wall seconds from the first start to the last finish, and
    the peak RSS (KB) of all their process trees together."""
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    shard = [[] if n == 1 else ["--shard", f"{k}/{n}"] for k in range(n)]
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "newswatch.cli", "--config", str(cfg),
                               "run", "--all-feeds", *s], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for s in shard]
    peak = 0
    while any(p.poll() is None for p in procs):
        peak = max(peak, sum(tree_rss_kb(p.pid)["total"] for p in procs if p.poll() is None))
        time.sleep(0.1)
    wall = time.perf_counter() - started
    for p in procs:
        if p.returncode:
            sys.exit(f"a shard failed ({p.returncode}): {p.stderr.read()[-2000:]}")
    return wall, peak


# Stages that take the lake's turn (read, decide, write): they run one shard at a time.
# (match-topics runs outside it, except for its topic views.)
TURN_STAGES = ("due-feeds", "keep-new-entries", "unfinished", "dedup", "load", "stories",
               "record-alerts", "finish-chunk", "deliver-alerts")


def counts(cfg: Path) -> tuple[int, float, float]:
    """Articles stored, the slowest run's seconds, and the share of the runs' time spent in
    stages that take turns, read back from the warehouse."""
    import json

    from newswatch.config import load_config
    from warehouse import db

    with db.connect(load_config(cfg).warehouse_path, read_only=True) as con:
        articles = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        runs = con.execute("SELECT epoch(finished_at) - epoch(started_at), stage_seconds "
                           "FROM runs").fetchall()
    turn = sum(v for _, st in runs for k, v in json.loads(st).items() if k in TURN_STAGES)
    return articles, max(r[0] for r in runs), turn / sum(r[0] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=4000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    if why := postgres.missing():
        sys.exit(why)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"  # no telemetry errors offline
    from prefect.testing.utilities import prefect_test_harness

    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {args.pages} pages "
          f"on 20 hosts", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as d, prefect_test_harness(), \
            postgres.postgres_server("bench") as dsn:
        from prefect.settings import PREFECT_API_URL

        api = PREFECT_API_URL.value()
        site = Path(d) / "site"
        site.mkdir()
        build_site(site, args.pages)
        ctx = multiprocessing.get_context("spawn")
        parent, conn = ctx.Pipe()
        server = ctx.Process(target=serve, args=(site, args.pages, conn), daemon=True)
        server.start()
        feeds = parent.recv()
        import psycopg

        settings = [("duckdb file", 1, "")]
        for n in args.workers:
            db_name = f"lake{n}"
            with psycopg.connect(dsn, autocommit=True) as pg:
                pg.execute(f"CREATE DATABASE {db_name}")
            catalog = dsn.replace("dbname=bench", f"dbname={db_name}")
            settings.append((f"lake, {n} shard(s)", n,
                             f'backend = "ducklake"\ncatalog = "{catalog}"\n'
                             f'data_path = "{Path(d) / f"parquet{n}"}"\n'))
        base = None
        serials: list[float] = []
        for label, n, warehouse in settings:
            work = Path(d) / f"run-{len(rows)}"
            work.mkdir()
            cfg = write_config(work, feeds, warehouse)
            wall, peak = run_shards(cfg, n, api)
            stored, slowest, serial = counts(cfg)
            rate = stored / wall
            base = base or rate
            serials.append(serial)
            rows.append(f"{label:<20} {wall:>7.1f} {stored:>8} {rate:>10.1f} {rate / base:>6.2f} "
                        f"{slowest:>9.1f} {peak / 1024:>8.0f} MB {serial:>7.2f}")
            print(rows[-1], flush=True)
        parent.send("stop")
        server.join(10)
    print(f"{'setting':<20} {'wall s':>7} {'articles':>8} {'articles/s':>10} {'ratio':>6} "
          f"{'slowest s':>9} {'peak RSS':>11} {'in turn':>7}")
    print("\n".join(rows))
    s = serials[0]
    print(f"In the single process, {s:.0%} of the run's time is in stages that take turns on a "
          f"lake; the rest (fetching, extracting) runs in every shard at once. With one shard per "
          f"machine, Amdahl's law bounds the speed-up at 1 / (s + (1 - s) / N): " + ", ".join(
              f"N={n}: {1 / (s + (1 - s) / n):.1f}x" for n in (2, 4, 8, 16)) +
          f" (at most {1 / s:.1f}x), if the catalog and the shared storage keep up.")
    print("wall s: first start to last finish (Prefect server shared, not counted); ratio: "
          "articles/s against the DuckDB file; slowest s: the slowest run's own time; peak "
          "RSS: every process of every shard together; in turn: the share of the runs' time spent "
          "in stages that take turns.")


if __name__ == "__main__":
    main()
