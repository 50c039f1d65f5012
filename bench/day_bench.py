"""A simulated day of the news: polls run back to back over a local news web, the warehouse
growing poll by poll, measured for throughput, flatness and memory.

The web: `--feeds` feeds (2,000) on `--hosts` loopback hosts (500, 127.1.x.y, each its own
address so per-host politeness is real), served by a separate process. Pages are real news
pages (Mozilla Readability's, NEWSWATCH_CORPUS/extraction/readability-pages), each copy with
its words shuffled so every page is a new article with a real template's structure and
extraction work (bench/extract_bench.py's `variant`). Feeds answer ETag / If-None-Match, so a
feed with nothing new costs a 304, as real feeds do.

The day: 500,000 new entries a day arrive over 96 polls (one per 15 minutes). Compressed, the
same per-poll shape is kept and the volume scaled to `--articles` (60,000: 625 a poll), each
entry going to a feed drawn with Zipf-like weights (a few feeds busy, most quiet). About 86% of
the pages become new articles (the others are the readability set's pages that hold too little
text), so 60,000 entries make a scaled day of at least 50,000 stored articles. Politeness
is on (the shipped [fetch] defaults). One `newswatch serve`-like process runs the 96 polls back
to back (every feed polled each time: the clock is compressed), after one warm-up poll with
nothing new that starts Prefect's temporary server. Feeds are full from the start: each lists
its 30 latest items, yesterday's at first (their pages are gone: the warm-up poll gets one 404
for each and records them), so every poll parses full feeds, as on any day of a real watch, and
what grows over the day is the warehouse alone.

Prints per poll: wall time, new articles, warehouse size, peak RSS of the process tree (the
runner, with Prefect's temporary server in a thread, and its extraction workers; the "Prefect"
column is a separate Prefect server process, none now), summed over its processes and as PSS
(each page shared between them counted once); then sustained articles/s over the polls' wall
time and its ratio to 500,000/day, first/middle/last poll time and last/first, warehouse and
WARC bytes per article. The web makes each poll's new pages before the poll starts (a real
site's pages are ready, and made on other machines' cores), so the runner has the two cores
to itself but for the bench's memory sampler.

    NEWSWATCH_CORPUS=../shared/corpus python bench/day_bench.py [--articles 60000]

`--polls 0` runs the warm-up poll alone: a first poll of `--feeds` full feeds, each of their
entries recorded and its page fetched (a 404), the memory a long new feed list costs.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from extract_bench import PeakRSS, corpus_pages, variant  # noqa: E402

DAY = 500_000  # articles a day (Media Cloud's order of magnitude)
POLLS = 96  # one every 15 minutes
ITEMS_PER_FEED = 30  # a feed lists its latest entries, as real feeds do
GB = 10**9  # the "1 GB" read the stricter way, in bytes (954 MiB)


def host_addr(h: int) -> str:
    return f"127.1.{h // 250}.{h % 250 + 1}"


def schedule(articles: int, feeds: int, polls: int, seed: int = 11) -> list[list[int]]:
    """For each poll, the feed of each article arriving before it (ids are global, in order)."""
    rnd = random.Random(seed)
    weights = [1 / (r + 1) ** 0.8 for r in range(feeds)]
    order = list(range(feeds))
    rnd.shuffle(order)
    per = [articles // polls + (p < articles % polls) for p in range(polls)]
    return [rnd.choices(order, weights, k=n) for n in per]


# --- the news web (its own process) --------------------------------------------------------

def serve_web(hosts: int, feeds: int, plan: list[list[int]], conn) -> None:  # type: ignore[no-untyped-def]
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    base = corpus_pages()
    ready: dict[int, bytes] = {}  # the pages of the last two polls' new articles, made ahead
    kept: list[list[int]] = []

    def page(i: int) -> bytes:
        got = ready.get(i)
        return got if got is not None else variant(base[i % len(base)], i // len(base) + 1)

    # (article, poll). A feed lists its latest items from the start, as a real feed does on
    # the morning of any day: yesterday's, at ids below 0, whose pages are gone (404). The
    # warm-up poll records them (one 404 each, never fetched again), so every poll parses
    # full feeds and only the warehouse grows over the day.
    items: dict[int, list[tuple[int, int]]] = {
        f: [(-1 - f * ITEMS_PER_FEED - k, -1) for k in range(ITEMS_PER_FEED)]
        for f in range(feeds)}
    lock = threading.Lock()
    ports: list[int] = []
    start = time.time()

    def feed_xml(f: int) -> tuple[bytes, str]:
        h = f % hosts
        with lock:
            latest = items[f][-ITEMS_PER_FEED:]
        etag = f'"{f}-{latest[-1][0] if latest else -1}"'
        body = "".join(
            f"<item><title>Story {a}</title>"
            f"<link>http://{host_addr(h)}:{ports[h]}/a/{a}.html</link><guid>a{a}</guid>"
            f"<pubDate>{email.utils.formatdate(start + p * 60, usegmt=True)}</pubDate></item>"
            for a, p in reversed(latest))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>feed {f}</title><link>http://{host_addr(h)}/</link>{body}"
                f"</channel></rss>").encode(), etag

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            if self.path.startswith("/feed/"):
                body, etag = feed_xml(int(name.removesuffix(".xml")))
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                ctype = "application/rss+xml; charset=utf-8"
            elif (a := int(name.removesuffix(".html"))) < 0:  # yesterday's page: gone
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                body, etag, ctype = page(a), "", "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    servers = [ThreadingHTTPServer((host_addr(h), 0), Handler) for h in range(hosts)]
    ports += [s.server_address[1] for s in servers]
    for s in servers:
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, args=(1.0,), daemon=True).start()
    conn.send([f"http://{host_addr(f % hosts)}:{ports[f % hosts]}/feed/{f}.xml"
               for f in range(feeds)])
    next_id = 0
    while (msg := conn.recv()) != "stop":  # "poll P": publish what arrived before poll P
        p = int(msg.split()[1])
        # A real site has its pages ready: they are made before the poll starts, so the
        # runner's two cores are not shared with this process shuffling words meanwhile.
        new = plan[p] if 0 <= p < len(plan) else []  # the warm-up (-1) publishes nothing
        made = {a: page(a) for a in range(next_id, next_id + len(new))}
        ready.update(made)
        kept.append(list(made))
        if len(kept) > 2:  # an older page (a retry) is made when asked for
            for a in kept.pop(0):
                del ready[a]
        with lock:
            for f in new:
                items[f].append((next_id, p))
                next_id += 1
        conn.send(next_id)


# --- the runner (its own process tree: runner, workers, Prefect's server) -------------------

def runner(cfg: str) -> None:
    """Polls back to back, one line of JSON per poll on stdout; waits for "go" on stdin."""
    from flows.ingest import ingest
    from flows.prefect_api import prefect_api
    from newswatch.memory import cap_malloc_arenas

    cap_malloc_arenas()  # as `newswatch run` does

    async def polls() -> None:
        for line in sys.stdin:
            if line.strip() != "go":
                return
            t = time.perf_counter()
            s = await ingest(cfg, all_feeds=True)
            print(json.dumps({"wall_s": time.perf_counter() - t, "new": s.articles_new,
                              "fetched": s.pages_fetched, "failed": s.pages_failed,
                              "feeds_failed": s.feeds_failed, "stages": s.stage_seconds}),
                  flush=True)

    with prefect_api():  # as `newswatch run` does
        asyncio.run(polls())


def write_config(folder: Path, feeds: list[str]) -> Path:
    (folder / "feeds.toml").write_text("".join(
        f'[[feed]]\nname = "feed {i}"\nurl = "{u}"\n\n' for i, u in enumerate(feeds)))
    (folder / "topics.toml").write_text((ROOT / "seeds" / "topics.toml").read_text())
    cfg = folder / "newswatch.toml"
    cfg.write_text(  # politeness: the shipped [fetch] defaults
        '[warehouse]\npath = "nw.duckdb"\n[sources]\nfeeds = "feeds.toml"\n'
        'topics = "topics.toml"\n[alerts]\nlog = "alerts.jsonl"\nterminal = false\n'
        '[archive]\ndir = "archive"\n'
        '[fetch]\nallow_private_networks = true\nallowed_networks = "127.0.0.0/8"\n')
    return cfg


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() \
        else (path.stat().st_size if path.exists() else 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=60_000, help="the day's new entries")
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--hosts", type=int, default=500)
    ap.add_argument("--polls", type=int, default=POLLS)
    ap.add_argument("--stages", action="store_true", help="print each poll's slowest stages")
    ap.add_argument("--runner", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.runner:
        runner(args.runner)
        return
    plan = schedule(args.articles, args.feeds, args.polls)
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {args.articles} "
          f"articles = {args.articles / DAY:.1%} of a {DAY:,}-article day over {args.polls} "
          f"polls; {args.feeds} feeds on {args.hosts} hosts; politeness on", flush=True)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        ctx = multiprocessing.get_context("spawn")
        web_end, conn = ctx.Pipe()
        web = ctx.Process(target=serve_web, args=(args.hosts, args.feeds, plan, conn),
                          daemon=True)
        web.start()
        cfg = write_config(work, web_end.recv())
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "PREFECT_LOGGING_LEVEL": "WARNING",
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
        child = subprocess.Popen([sys.executable, __file__, "--runner", str(cfg)], env=env,
                                 cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
        assert child.stdin and child.stdout
        # The runner and its tree go with the bench, however it ends.
        import atexit
        atexit.register(lambda: child.poll() is None and child.kill())
        rows = []
        began = 0.0
        print(f"{'poll':>4} {'new':>5} {'wall s':>7} {'art/s':>6} {'articles':>8} "
              f"{'warehouse':>9} {'peak RSS':>10}  (run / workers / Prefect) {'PSS':>8}",
              flush=True)
        for p in range(-1, args.polls):  # poll -1: warm-up, nothing new (Prefect starts)
            web_end.send(f"poll {p}")
            published = web_end.recv()
            with PeakRSS(child.pid) as peak:
                child.stdin.write("go\n")
                child.stdin.flush()
                line = child.stdout.readline()
            if not line:
                sys.exit(f"the runner died ({child.wait()})")
            r = json.loads(line)
            if p < 0:
                began = time.perf_counter()
                pk = peak.peak
                print(f"warm-up poll {r['wall_s']:.1f} s (nothing new; yesterday's "
                      f"{r['failed']} items recorded); peak RSS {pk['total'] / 1024:.0f} MiB "
                      f"({pk['run'] / 1024:.0f} / {pk['workers'] / 1024:.0f} / "
                      f"{pk['prefect'] / 1024:.0f}), PSS {pk['pss'] / 1024:.0f} MiB", flush=True)
                if args.stages:
                    top = sorted(r["stages"].items(), key=lambda kv: -kv[1])[:12]
                    print("      " + ", ".join(f"{k} {v:.1f}" for k, v in top), flush=True)
                continue
            r.update(poll=p, published=published, peak_mb=peak.peak["total"] / 1024,
                     pss_mb=peak.peak["pss"] / 1024,
                     warehouse=du(work / "nw.duckdb") + du(work / "nw.duckdb.wal"))
            rows.append(r)
            total_new = sum(x["new"] for x in rows)
            pk = peak.peak
            print(f"{p:>4} {r['new']:>5} {r['wall_s']:>7.1f} {r['new'] / r['wall_s']:>6.1f} "
                  f"{total_new:>8} {r['warehouse'] / 2**20:>7.0f} MB {r['peak_mb']:>6.0f} MiB"
                  f"  ({pk['run'] / 1024:.0f} / {pk['workers'] / 1024:.0f} / "
                  f"{pk['prefect'] / 1024:.0f}) {r['pss_mb']:>4.0f} MiB"
                  + (f"  {r['failed']} page(s) failed" if r["failed"] else ""), flush=True)
            if args.stages:
                top = sorted(r["stages"].items(), key=lambda kv: -kv[1])[:6]
                print("      " + ", ".join(f"{k} {v:.1f}" for k, v in top), flush=True)
        elapsed = time.perf_counter() - began
        child.stdin.close()
        child.wait(60)
        web_end.send("stop")
        web.join(10)
        if not rows:  # --polls 0: the warm-up alone (a first poll of a long feed list)
            return
        articles = sum(x["new"] for x in rows)
        warehouse = rows[-1]["warehouse"]
        warc = du(work / "archive")
    walls = [x["wall_s"] for x in rows]
    rate = articles / sum(walls)
    mid = len(rows) // 2
    head, tail = statistics.median(walls[:10]), statistics.median(walls[-10:])
    print(f"\n{articles} articles in {sum(walls):.0f} s of {len(rows)} polls back to back "
          f"({elapsed:.0f} s with the bench's own work between polls): {rate:.1f} articles/s "
          f"sustained = {rate / (DAY / 86400):.2f}x {DAY:,}/day ({DAY / 86400:.2f}/s; 3x "
          f"headroom is {3 * DAY / 86400:.1f}/s)")
    print(f"poll wall time: first {walls[0]:.1f} s, middle {walls[mid]:.1f} s, last "
          f"{walls[-1]:.1f} s; last/first {walls[-1] / walls[0]:.2f}; median of the last 10 / "
          f"first 10 {tail / head:.2f} (target <= 1.3)")
    over = [sum(x[k] * 2**20 > GB for x in rows) for k in ("peak_mb", "pss_mb")]
    print(f"peak RSS of the process tree: max over polls {max(x['peak_mb'] for x in rows):.0f}"
          f" MiB summed over its processes, {over[0]} poll(s) over 1 GB; "
          f"{max(x['pss_mb'] for x in rows):.0f} MiB with each shared page counted once (PSS), "
          f"{over[1]} poll(s) over 1 GB (target <= 1 GB = 10^9 bytes = {GB / 2**20:.0f} MiB)")
    print(f"warehouse {warehouse / 2**20:.0f} MB = {warehouse / articles / 1024:.1f} KB per "
          f"article; WARC archive {warc / 2**20:.0f} MB = {warc / articles / 1024:.1f} KB per "
          f"article")


if __name__ == "__main__":
    main()
