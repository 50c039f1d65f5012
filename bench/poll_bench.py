"""Feed polling benchmark: every feed of the simulated day's news web (bench/day_bench.py)
fetched once through the HTTP seam, then again with ETags (the 304s a quiet poll is made of):
wall and CPU seconds, and the outcomes.

    NEWSWATCH_CORPUS=../shared/corpus python bench/poll_bench.py [--feeds 2000] [--hosts 500]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import day_bench  # noqa: E402

from newswatch.config import FetchConfig  # noqa: E402
from tasks.http import Fetcher  # noqa: E402


async def poll(cfg: FetchConfig, urls: list[str], etags: dict[str, str]) -> tuple:
    async with Fetcher(cfg) as f:
        wall, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(
            f.get(u, max_bytes=cfg.max_feed_bytes, etag=etags.get(u)) for u in urls))
        return time.perf_counter() - wall, time.process_time() - cpu, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--hosts", type=int, default=500)
    args = ap.parse_args()
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    plan = day_bench.schedule(args.feeds, args.feeds, 4)  # about one new entry per feed
    web = ctx.Process(target=day_bench.serve_web, args=(args.hosts, args.feeds, plan, there),
                      daemon=True)
    web.start()
    urls = here.recv()
    here.send("poll 0")
    here.recv()
    # Politeness: the shipped [fetch] defaults; loopback allowed.
    cfg = dataclasses.replace(FetchConfig(), allow_private_networks=True,
                              allowed_networks="127.0.0.0/8")
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; {args.feeds} feeds "
          f"on {args.hosts} hosts; total_concurrency {cfg.total_concurrency}, "
          f"{cfg.per_host_concurrency} per host, {cfg.per_host_interval_s} s apart")
    etags: dict[str, str] = {}
    for label in ("first poll", "again (ETags)"):
        wall, cpu, results = asyncio.run(poll(cfg, urls, etags))
        outcomes = Counter(f"{r.status}/{r.reason}" for r in results)
        print(f"{label:<14} wall {wall:5.1f} s  cpu {cpu:5.1f} s  {len(urls) / wall:6.0f} "
              f"feeds/s  {cpu / len(urls) * 1000:.1f} ms cpu a feed  {dict(outcomes)}",
              flush=True)
        etags = {r.url: r.headers["etag"] for r in results if "etag" in r.headers}
    here.send("stop")
    web.join(10)


if __name__ == "__main__":
    main()
