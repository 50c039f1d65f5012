"""Can people query the warehouse while ingest runs? A loopback news site publishes new
articles on every poll; ingest runs back to back for the whole test; meanwhile a separate
process makes read attempts spread evenly over the period, each as `newswatch sql` does it
(read-only connection, retrying on the lock for up to --wait seconds), and records whether it
got in and how long it waited.

    python bench/reader_bench.py [--seconds 60] [--reads 100] [--wait 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

PAGE = (ROOT / "seeds" / "fixture" / "sites" / "www.capitalwire.example" / "sport" / "2025" /
        "02" / "10" / "chess-federation-names-championship-venue.html").read_text()
PER_POLL = 20  # new articles the site publishes between two polls

READER = """
import sys, time, duckdb
path, n, period, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
start = time.monotonic()
for i in range(n):
    time.sleep(max(0.0, start + i * period / n - time.monotonic()))
    t0 = time.monotonic()
    ok = False
    while True:
        try:
            con = duckdb.connect(path, read_only=True)
            con.execute("SELECT count(*) FROM articles").fetchone()
            con.close()
            ok = True
            break
        except duckdb.IOException:
            if time.monotonic() - t0 > wait:
                break
            time.sleep(0.05)
    print(f"{int(ok)} {time.monotonic() - t0:.4f}", flush=True)
"""


def site() -> tuple[ThreadingHTTPServer, str]:
    counter = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/feed.xml":
                start = counter["n"]
                counter["n"] += PER_POLL
                items = "".join(f"<item><title>Story {i}</title><link>/a/{i}.html</link></item>"
                                for i in range(start, start + PER_POLL))
                body = f'<rss version="2.0"><channel><title>Sim</title>{items}</channel></rss>'
            else:
                n = self.path.rsplit("/", 1)[-1].split(".")[0]
                body = PAGE.replace("Lisbon", f"City {n}").replace(
                    "chess-federation-names-championship-venue", f"story-{n}")
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--reads", type=int, default=100)
    ap.add_argument("--wait", type=float, default=5.0)
    args = ap.parse_args()
    from flows.ingest import ingest

    httpd, url = site()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "newswatch.toml"
        (Path(tmp) / "feeds.toml").write_text(f'[[feed]]\nname = "Sim"\nurl = "{url}/feed.xml"\n')
        cfg.write_text(f'[warehouse]\npath = "r.duckdb"\n[sources]\nfeeds = "feeds.toml"\n'
                       f'topics = "{ROOT}/seeds/topics.toml"\n[alerts]\nterminal = false\n'
                       f'log = "alerts.jsonl"\n[fetch]\nallow_private_networks = true\n')
        asyncio.run(ingest(str(cfg), all_feeds=True))  # Prefect's server is up from here on
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(Path(tmp) / "r.duckdb"), str(args.reads),
             str(args.seconds), str(args.wait)], stdout=subprocess.PIPE, text=True)
        runs, durations = 0, []
        while reader.poll() is None:
            t0 = time.monotonic()
            asyncio.run(ingest(str(cfg), all_feeds=True))
            durations.append(time.monotonic() - t0)
            runs += 1
        results = [line.split() for line in reader.stdout.read().splitlines()]
        httpd.shutdown()
    ok = [float(w) for good, w in results if good == "1"]
    waits = sorted(float(w) for _, w in results)
    print(f"ingest: {runs} runs back to back, {PER_POLL} new articles each, median run "
          f"{statistics.median(durations):.2f} s")
    print(f"reader: {len(ok)} of {len(results)} read attempts got in (wait cap {args.wait:g} s)")
    print(f"wait: median {statistics.median(waits) * 1000:.0f} ms, 95th percentile "
          f"{waits[int(0.95 * (len(waits) - 1))] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
