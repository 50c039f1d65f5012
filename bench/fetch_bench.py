"""Fetch benchmark on the local news web: 200 feeds × 20 new articles across 20 hosts, 50 ms
latency per response (the simulator runs in its own process).

Prints, from one run: the first poll's wall time (the whole ingest flow, and its
fetch → parse → fetch pages → extract stages, the same work the naive loop does); a second poll
with nothing new; the naive sequential loop (feedparser.parse on the URL, trafilatura.fetch_url
and extract per article) over the same world; the ratios; and the most requests any host
had open at once against the configured per-host concurrency.

    python bench/fetch_bench.py [--feeds 200] [--articles 20] [--hosts 20] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

CONCURRENCY = 2  # per host, as configured for the run below
SAME_WORK = ("due-feeds", "fetch-feeds", "parse-feeds", "keep-new-entries", "fetch-extract")


def serve_world(conn, hosts: int, feeds: int, articles: int, latency: float) -> None:  # type: ignore[no-untyped-def]
    from tests.simulator import NewsWeb

    web = NewsWeb(hosts, latency)
    web.start()
    urls = [web.add_feed(web.hosts[i % hosts], f"feed{i}", articles) for i in range(feeds)]
    conn.send(urls)
    while (cmd := conn.recv()) != "stop":
        if cmd == "stats":
            conn.send((dict(web.peak), len(web.log)))
        elif cmd == "reset":
            web.log.clear()
            web.peak.clear()
            conn.send("ok")
    web.stop()


def write_config(tmp: Path, urls: list[str]) -> Path:
    (tmp / "feeds.toml").write_text("".join(
        f'[[feed]]\nname = "feed{i}"\nurl = "{u}"\n\n' for i, u in enumerate(urls)))
    (tmp / "topics.toml").write_text(
        (Path(__file__).resolve().parent.parent / "seeds" / "topics.toml").read_text())
    cfg = tmp / "newswatch.toml"
    cfg.write_text(
        '[warehouse]\npath = "nw.duckdb"\n[sources]\nfeeds = "feeds.toml"\n'
        'topics = "topics.toml"\n[alerts]\nlog = "alerts.jsonl"\nterminal = false\n'
        '[fetch]\nallow_private_networks = true\nallowed_networks = "127.0.0.0/8"\n'
        f"per_host_concurrency = {CONCURRENCY}\nper_host_interval_s = 0.0\n"
        "total_concurrency = 64\n")
    return cfg


def naive(urls: list[str]) -> tuple[float, int]:
    import feedparser
    import trafilatura
    from trafilatura.settings import use_config

    conf = use_config()
    conf.set("DEFAULT", "SSRF_PROTECTION", "off")  # the simulator lives on loopback
    started, n = time.perf_counter(), 0
    for u in urls:
        for e in feedparser.parse(u).entries:
            html = trafilatura.fetch_url(e.link, config=conf)
            if html and trafilatura.extract(html):
                n += 1
    return time.perf_counter() - started, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--articles", type=int, default=20)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--skip-naive", action="store_true", help="for profiling our side only")
    args = ap.parse_args()
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    sim = ctx.Process(target=serve_world, args=(child, args.hosts, args.feeds, args.articles,
                                                args.latency), daemon=True)
    sim.start()
    urls = parent.recv()
    from flows.ingest import ingest

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        warm = tmp / "warm"
        warm.mkdir()
        asyncio.run(ingest(str(write_config(warm, [])), all_feeds=True))  # start Prefect first
        cfg = write_config(tmp, urls)
        t0 = time.perf_counter()
        first = asyncio.run(ingest(str(cfg), all_feeds=True))
        first_s = time.perf_counter() - t0
        parent.send("stats")
        peak, requests = parent.recv()
        parent.send("reset")
        parent.recv()
        t0 = time.perf_counter()
        second = asyncio.run(ingest(str(cfg), all_feeds=True))
        second_s = time.perf_counter() - t0
        parent.send("stats")
        _, requests2 = parent.recv()
    naive_s, naive_n = naive(urls) if not args.skip_naive else (float("nan"), 0)
    parent.send("stop")
    sim.join(10)
    same = sum(first.stage_seconds.get(k, 0) for k in SAME_WORK)
    n = args.feeds * args.articles
    print(f"world: {args.feeds} feeds × {args.articles} articles on {args.hosts} hosts, "
          f"{args.latency * 1000:.0f} ms per response, {os.cpu_count()} cores")
    print(f"first poll (whole ingest flow)       {first_s:8.1f} s  {first.articles_new} new "
          f"articles, {requests} requests")
    print(f"  of which fetch → extract stages    {same:8.1f} s  "
          f"({', '.join(f'{k} {first.stage_seconds.get(k, 0):.1f}' for k in SAME_WORK)})")
    rest = {k: v for k, v in first.stage_seconds.items() if k not in SAME_WORK}
    print(f"  the other stages                   {sum(rest.values()):8.1f} s  "
          f"({', '.join(f'{k} {v:.1f}' for k, v in rest.items())})")
    print(f"second poll, nothing new             {second_s:8.1f} s  {second.articles_new} new, "
          f"{second.pages_fetched} pages, {requests2} requests")
    print(f"naive sequential loop                {naive_s:8.1f} s  {naive_n} of {n} "
          f"articles extracted")
    print(f"ratio naive / first poll (whole)     {naive_s / first_s:8.1f}×")
    print(f"ratio naive / fetch → extract        {naive_s / same:8.1f}×")
    print(f"second poll / first poll             {second_s / first_s:8.1%}")
    print(f"most requests open at once per host  {max(peak.values())} "
          f"(configured {CONCURRENCY}); hosts over it: "
          f"{sum(v > CONCURRENCY for v in peak.values())}")


if __name__ == "__main__":
    main()
