"""Extraction benchmark: whole ingest runs over real news pages served on loopback, against bare
trafilatura on the same pages, same machine, same run.

Pages: Mozilla Readability's 130 real pages (NEWSWATCH_CORPUS/extraction/readability-pages),
copied to reach the batch size. Copy k > 0 of a page has the words of each text node shuffled
(seeded by k) and its rel=canonical / og:url neutralised, so every copy is a new article of the
same size and structure (the same extraction work) rather than a duplicate. They are served
by a separate process on 20 loopback hosts, listed by one feed per host.

For each batch size it prints:
- bare: `trafilatura.extract` on the page bytes in one warm process per core (median of 3);
- extract alone: our extraction of the same pages in memory (`Extractor.extract_all`, the
  workers started inside the measurement), twice in a fresh process for each batch size:
  first as the process's first extraction (its workers' forkserver starts and imports
  trafilatura inside the measurement, ~0.4 s of one core), then again in the same process,
  as every later run of a `newswatch serve` process extracts (the forkserver running: workers
  fork from it warm) and as a `run` does whose forkserver warmed up while its feeds downloaded;
- the fetch-extract stage of a real run (`newswatch run` path, all feeds, fresh warehouse):
  pages downloaded over loopback and extracted as they arrive;
- the whole run's stages (the flow's body: everything but Prefect's start-up);
- Prefect's start-up, and the peak RSS of the run's process tree (the run, with Prefect's
  temporary server in a thread, and its extraction workers), sampled every 50 ms.

    NEWSWATCH_CORPUS=../shared/corpus python bench/extract_bench.py [--sizes 200 2000]
    NEWSWATCH_CORPUS=../shared/corpus python bench/extract_bench.py --run-only --sizes 10000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# And for the extraction workers: a forkserver on Python 3.11 ignores its parent's sys.path, so
# workers started from another folder would import the installed newswatch, not this tree's (an
# A/B run from a worktree measured the old run with the new workers). The day bench imports
# this module, and its runner inherits the setting.
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get(
    "PYTHONPATH")])])

HOSTS = 20
_SPLIT = re.compile(r"(<script.*?</script>|<style.*?</style>|<!--.*?-->|<[^>]+>)", re.S | re.I)
_CANONICAL = re.compile(r"rel\s*=\s*[\"']?canonical|og:url", re.I)


def corpus_pages() -> list[bytes]:
    root = os.environ.get("NEWSWATCH_CORPUS")
    if not root:
        sys.exit("set NEWSWATCH_CORPUS to the shared corpus (../shared/corpus)")
    pages = Path(root) / "extraction" / "readability-pages" / "test" / "test-pages"
    return [(d / "source.html").read_bytes() for d in sorted(pages.iterdir())]


def variant(page: bytes, k: int) -> bytes:
    """Copy k of a page: same markup, each text node's words shuffled, no canonical URL."""
    if k == 0:
        return page
    rnd = random.Random(k)
    html = _CANONICAL.sub(lambda m: "rel=\"x-none\"" if "rel" in m.group(0).lower()
                          else "og:x-none", page.decode("utf-8", "replace"))
    parts = _SPLIT.split(html)
    for i in range(0, len(parts), 2):  # even parts are text between tags
        words = parts[i].split()
        if len(words) > 3:
            rnd.shuffle(words)
            parts[i] = " ".join(words)
    return "".join(parts).encode()


def build_site(folder: Path, n: int) -> list[bytes]:
    """Write n pages and one RSS feed per host; return the page bodies."""
    base = corpus_pages()
    bodies = []
    for i in range(n):
        body = variant(base[i % len(base)], i // len(base))
        (folder / f"{i}.html").write_bytes(body)
        bodies.append(body)
    return bodies


def serve(folder: Path, n: int, conn) -> None:  # type: ignore[no-untyped-def]
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hosts = [f"127.0.0.{10 + h}" for h in range(HOSTS)]
    servers = [ThreadingHTTPServer((h, 0), BaseHTTPRequestHandler) for h in hosts]
    ports = {h: s.server_address[1] for h, s in zip(hosts, servers, strict=True)}
    feeds = {}
    for h_i, h in enumerate(hosts):
        items = "".join(
            f"<item><title>Page {i}</title><link>http://{h}:{ports[h]}/p/{i}.html</link>"
            f"<guid>p{i}</guid><pubDate>Mon, 10 Feb 2025 08:00:00 GMT</pubDate></item>"
            for i in range(h_i, n, HOSTS))
        feeds[h] = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                    f"<title>host {h_i}</title><link>http://{h}/</link>{items}"
                    f"</channel></rss>").encode()

    def handler(host: str) -> type:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path == "/feed.xml":
                    body, ctype = feeds[host], "application/rss+xml; charset=utf-8"
                else:
                    body = (folder / self.path.rsplit("/", 1)[-1]).read_bytes()
                    ctype = "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    for h, s in zip(hosts, servers, strict=True):
        s.RequestHandlerClass = handler(h)
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    conn.send([f"http://{h}:{ports[h]}/feed.xml" for h in hosts])
    conn.recv()  # "stop"


def write_config(folder: Path, feeds: list[str], chunk: int) -> Path:
    (folder / "feeds.toml").write_text("".join(
        f'[[feed]]\nname = "host {i}"\nurl = "{u}"\n\n' for i, u in enumerate(feeds)))
    (folder / "topics.toml").write_text((ROOT / "seeds" / "topics.toml").read_text())
    cfg = folder / "newswatch.toml"
    cfg.write_text(
        '[warehouse]\npath = "nw.duckdb"\n[sources]\nfeeds = "feeds.toml"\n'
        'topics = "topics.toml"\n[alerts]\nlog = "alerts.jsonl"\nterminal = false\n'
        '[fetch]\nallow_private_networks = true\nallowed_networks = "127.0.0.0/8"\n'
        "per_host_interval_s = 0.0\ntotal_concurrency = 40\n"
        f"[ingest]\nchunk_pages = {chunk}\n")
    return cfg


# --- bare trafilatura ----------------------------------------------------------------------

def _bare(body: bytes) -> int:
    import trafilatura

    return len(trafilatura.extract(body) or "")


def bare_rate(bodies: list[bytes], reps: int = 3) -> float:
    """Pages/s of trafilatura.extract in one warm process per core (median of reps)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(os.cpu_count() or 1) as pool:
        pool.map(_bare, bodies[:8], chunksize=1)  # warm: imports and trafilatura's lazy state
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            pool.map(_bare, bodies, chunksize=4)
            times.append(time.perf_counter() - t)
    return len(bodies) / statistics.median(times)


# --- our side ------------------------------------------------------------------------------

def extract_alone(cfg_path: Path, folder: Path, n: int) -> tuple[float, float]:
    """Pages/s of our extraction over the pages in memory, workers started inside, in a fresh
    process: its first extraction, then the same again (the forkserver warm, as in a `serve`
    process)."""
    ctx = multiprocessing.get_context("spawn")
    parent, conn = ctx.Pipe()
    proc = ctx.Process(target=_extract_twice, args=(cfg_path, folder, n, conn))
    proc.start()
    rates = parent.recv()
    proc.join()
    return rates


def _extract_twice(cfg_path: Path, folder: Path, n: int, conn) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from newswatch.config import load_config
    from tasks.extract import Extractor
    from tasks.models import Entry, FetchResult, PageFetch

    cfg = load_config(cfg_path)
    now = datetime.now(UTC)
    # Dated as the bench's feed dates its items, so the page's own date is not looked for: the
    # same work as in the run.
    pages = [PageFetch(Entry(f"http://127.0.0.1/p/{i}.html", "f", None, None, None, now, "o"),
                       FetchResult(f"http://127.0.0.1/p/{i}.html", "ok", "ok", now,
                                   body=(folder / f"{i}.html").read_bytes(),
                                   headers={"content-type": "text/html; charset=utf-8"}))
             for i in range(n)]
    rates = []
    for _ in range(2):
        t = time.perf_counter()
        with Extractor(cfg, n) as ex:
            ex.extract_all(pages)
        rates.append(n / (time.perf_counter() - t))
    conn.send((rates[0], rates[1]))


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "run"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    if b"uvicorn" in cmd or b"prefect" in cmd:
        return "prefect"
    return "workers"  # the forkserver and the extraction workers it forks


def _kb(path: str, field: str) -> int:
    try:
        m = re.search(rf"^{field}:\s+(\d+)", Path(path).read_text(), re.M)
    except OSError:
        return 0
    return int(m.group(1)) if m else 0


def _children(pid: int) -> list[int]:
    """A process's children, from each of its threads' /proc children list (no scan of /proc:
    the sampler runs 20 times a second beside the run it measures)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tids:
        try:
            out += map(int, Path(f"/proc/{pid}/task/{tid}/children").read_text().split())
        except OSError:
            continue
    return out


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def tree_rss_kb(root: int, pss: bool = True, cpu: dict[int, tuple[str, float]] | None = None
                ) -> dict[str, int]:
    """Resident memory of a process and all its descendants, from /proc, by role (the run,
    its extraction workers, a Prefect server process if any) and in total: the sum of each
    process's RSS, and with `pss` the tree's memory with each shared page counted once (the
    workers share the pages of the forkserver they were forked from, which RSS counts in each
    of them)."""
    out = {"total": 0, "run": 0, "workers": 0, "prefect": 0, "other": 0, "pss": 0}
    todo = [root]
    while todo:
        p = todo.pop()
        kb = _kb(f"/proc/{p}/status", "VmRSS")
        out["total"] += kb
        role = _role(p, root)
        out[role] += kb
        if cpu is not None:
            cpu[p] = (role, max(cpu.get(p, (role, 0.0))[1], cpu_s(p)))
        if pss:
            out["pss"] += _kb(f"/proc/{p}/smaps_rollup", "Pss")
        todo += _children(p)
    return out


class PeakRSS:
    """Samples a process tree's RSS every 50 ms in a thread: the peak total, and each role's
    own peak (they need not peak together). PSS is read (smaps_rollup walks each process's
    page tables: ms for a large one) only when the summed RSS is within 5% of its peak so
    far, where PSS peaks too."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak = {"total": 0, "run": 0, "workers": 0, "prefect": 0, "pss": 0}
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU s when last seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            now = tree_rss_kb(self.root, pss=False, cpu=self.cpu)
            if now["total"] >= 0.95 * self.peak["total"]:
                now = tree_rss_kb(self.root, cpu=self.cpu)
            for k in self.peak:
                self.peak[k] = max(self.peak[k], now[k])
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds each role used (a process's last sample: up to 50 ms short)."""
        out: dict[str, float] = {}
        for role, s in self.cpu.values():
            out[role] = out.get(role, 0.0) + s
        return out

    def describe(self) -> str:
        p = self.peak
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in sorted(self.cpu_by_role().items()))
        return (f"peak RSS {p['total'] / 1024:.0f} MiB (run {p['run'] / 1024:.0f}, workers "
                f"{p['workers'] / 1024:.0f}, Prefect {p['prefect'] / 1024:.0f}; PSS "
                f"{p['pss'] / 1024:.0f}); CPU s: {cpu}")


def run_ingest(cfg: Path) -> tuple[dict, PeakRSS]:
    """One `newswatch run --all-feeds` path in a child process; its summary and peak RSS."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
    out = cfg.parent / "summary.json"
    child = subprocess.Popen([sys.executable, __file__, "--child", str(cfg), str(out)],
                             env=env, cwd=ROOT)
    with PeakRSS(child.pid) as peak:
        child.wait()
    if child.returncode:
        sys.exit(f"the ingest run failed ({child.returncode})")
    return json.loads(out.read_text()), peak


def child(cfg: str, out: str) -> None:
    import asyncio
    import dataclasses

    called = time.time()
    from flows.ingest import ingest
    from flows.prefect_api import prefect_api
    from newswatch.memory import cap_malloc_arenas

    cap_malloc_arenas()  # as `newswatch run` does

    with prefect_api():  # as `newswatch run` does
        s = asyncio.run(ingest(cfg, all_feeds=True))
    out_d = dataclasses.asdict(s)
    out_d["prefect_startup_s"] = s.flow_started - called
    Path(out).write_text(json.dumps(out_d))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    ap.add_argument("--chunk", type=int, default=None, help="[ingest] chunk_pages")
    ap.add_argument("--run-only", action="store_true",
                    help="skip bare trafilatura and the in-memory extraction (for the peak "
                         "RSS of a big run; the ratios then print as nan)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from newswatch.config import IngestConfig

    chunk = args.chunk or IngestConfig().chunk_pages
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} (a shared machine: "
          f"compare the ratios, measured side by side); chunk_pages {chunk}")
    head = (f"{'pages':>6} {'bare/s':>7} {'alone/s':>8} {'ratio':>6} {'serve/s':>8} "
            f"{'ratio':>6} {'fetch+x/s':>9} "
            f"{'ratio':>6} {'run/s':>6} {'ratio':>6} {'prefect s':>9} {'peak RSS':>9}")
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as d:
            folder = Path(d)
            site = folder / "site"
            site.mkdir()
            bodies = build_site(site, n)
            ctx = multiprocessing.get_context("spawn")
            parent, conn = ctx.Pipe()
            server = ctx.Process(target=serve, args=(site, n, conn), daemon=True)
            server.start()
            feeds = parent.recv()
            work = folder / "run"
            work.mkdir()
            cfg = write_config(work, feeds, chunk)
            bare = float("nan") if args.run_only else bare_rate(bodies)
            del bodies
            alone, again = ((float("nan"),) * 2 if args.run_only
                            else extract_alone(cfg, site, n))
            served = cpu_s(server.pid)
            summary, peak = run_ingest(cfg)
            served = cpu_s(server.pid) - served  # the bench's page server, beside the run
            parent.send("stop")
            server.join(10)
        stages = summary["stage_seconds"]
        fx = n / stages["fetch-extract"]
        whole = n / summary["body_seconds"]
        rows.append(f"{n:>6} {bare:>7.1f} {alone:>8.1f} {alone / bare:>6.2f} {again:>8.1f} "
                    f"{again / bare:>6.2f} {fx:>9.1f} "
                    f"{fx / bare:>6.2f} {whole:>6.1f} {whole / bare:>6.2f} "
                    f"{summary['prefect_startup_s']:>9.1f} {peak.peak['total'] / 1024:>6.0f} MiB")
        print(f"  {n} pages: {summary['articles_new']} new articles in {summary['chunks']} "
              f"chunk(s); {peak.describe()}; stages: "
              + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
              + f"; the page server's CPU {served:.1f} s", flush=True)
    print(head)
    print("\n".join(rows))
    print("bare/s: trafilatura.extract, one warm process per core; alone/s: our extraction "
          "of the pages in memory, workers started inside, a fresh process's first "
          "extraction; serve/s: the same again in that process (its forkserver warm, as "
          "in a `serve` process's later runs); fetch+x/s: the run's fetch-extract "
          "stage over loopback; run/s: the run's stages end to end (Prefect's start-up "
          "excluded, shown apart); peak RSS: the run's process tree.")


if __name__ == "__main__":
    main()
