"""Extraction throughput: the process pool against Prefect's DaskTaskRunner on a LocalCluster,
the same workers and pages, measured side by side (rounds alternate; medians). Each runner is
started once and warmed, then timed over the pages; start-up is reported apart.

    NEWSWATCH_CORPUS=../shared/corpus python bench/extract_runner_bench.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from newswatch.config import load_config
from tasks.extract import Extractor
from tasks.models import Entry, FetchResult, PageFetch


def pages(root: Path, copies: int) -> list[PageFetch]:
    out = []
    for n in range(copies):
        for d in sorted(root.iterdir()):
            url = f"http://example.com/{n}/{d.name}"
            entry = Entry(url, "http://example.com/feed", None, "t", None,
                          datetime(2025, 2, 9, tzinfo=UTC), "Outlet")
            out.append(PageFetch(entry, FetchResult(url, "ok", "http_200", datetime.now(UTC),
                                                    body=(d / "source.html").read_bytes())))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--copies", type=int, default=2, help="times over the 130 corpus pages")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    corpus = os.environ.get("NEWSWATCH_CORPUS")
    if not corpus:
        sys.exit("set NEWSWATCH_CORPUS to the shared corpus (../shared/corpus)")
    batch = pages(Path(corpus) / "extraction/readability-pages/test/test-pages", args.copies)
    tmp = Path(tempfile.mkdtemp())
    extractors, startup = {}, {}
    for runner in ("processes", "dask"):
        (tmp / runner).mkdir()
        cfg_file = tmp / runner / "newswatch.toml"
        cfg_file.write_text(f'[extract]\nrunner = "{runner}"\nworkers = {args.workers}\n'
                            f'pool_threshold = 1\n[sources]\nfeeds = "f.toml"\n'
                            f'topics = "t.toml"\n', encoding="utf-8")
        (tmp / runner / "f.toml").write_text("")
        (tmp / runner / "t.toml").write_text("")
        t = time.perf_counter()
        ex = Extractor(load_config(cfg_file), len(batch)).__enter__()
        ex.extract_all(batch[:8])  # warm: workers imported trafilatura
        startup[runner] = time.perf_counter() - t
        extractors[runner] = ex
    times: dict[str, list[float]] = {r: [] for r in extractors}
    for _ in range(args.rounds):
        for runner, ex in extractors.items():
            t = time.perf_counter()
            ex.extract_all(batch)
            times[runner].append(time.perf_counter() - t)
    for ex in extractors.values():
        ex.__exit__(None, None, None)
    base = statistics.median(times["processes"])
    print(f"{len(batch)} pages, {args.workers} workers, {args.rounds} rounds (medians)")
    for runner, ts in times.items():
        med = statistics.median(ts)
        print(f"  {runner:9}  start {startup[runner]:5.1f} s   {med:6.2f} s   "
              f"{len(batch) / med:6.1f} pages/s   time x{med / base:.2f} of processes")


if __name__ == "__main__":
    main()
