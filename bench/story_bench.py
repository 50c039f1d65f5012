"""Cost of dedup and story clustering per new article, by how much is already stored.

    python bench/story_bench.py [--sizes 1000 10000 100000] [--batch 200]

For each size, a fresh warehouse is filled with that many synthetic articles (300 a day, so the
story window holds ~2,000 of them) whose LSH buckets, terms and document frequencies are
computed by the pipeline's own functions and bulk-loaded; then a batch of new articles goes
through the exact-duplicate lookup and assign_stories, as in a run. Each size runs in its own
process; prints the median per-article cost of 3 batches, the Python memory peak of
clustering one batch (tracemalloc), and the process's peak RSS (mostly the harness's fill)."""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PER_DAY = 300  # a few hundred feeds' worth of new articles a day
START = datetime(2024, 1, 1, tzinfo=UTC)


def synthetic(rng: random.Random, vocab: list[str], i: int) -> dict:
    theme = rng.sample(vocab, 8)  # an "event": words its reports share
    words = [rng.choice(theme) if rng.random() < 0.15 else rng.choice(vocab) for _ in range(170)]
    text = ". ".join(" ".join(words[k:k + 17]) for k in range(0, len(words), 17)) + "."
    return {"article_id": f"{i:016x}", "title": " ".join(rng.sample(theme, 6)), "text": text,
            "anchor": START + timedelta(days=i // PER_DAY, seconds=i % PER_DAY)}


def child(size: int, batch: int) -> None:
    from newswatch.config import load_config
    from tasks.dedup import content_hash
    from tasks.features import terms
    from tasks.near_dup import fingerprint
    from tasks.stories import assign_stories, vector
    from warehouse import db

    rng = random.Random(5)
    vocab = [f"w{n}{chr(97 + n % 26)}" for n in range(20_000)]
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "newswatch.toml"
        cfg_path.write_text(f'[warehouse]\npath = "b.duckdb"\n[sources]\n'
                            f'feeds = "{ROOT}/seeds/feeds.toml"\n'
                            f'topics = "{ROOT}/seeds/topics.toml"\n', encoding="utf-8")
        cfg = load_config(cfg_path)
        s = cfg.stories
        db.migrate(cfg.warehouse_path)
        stored = [synthetic(rng, vocab, i) for i in range(size)]
        df = Counter(t for a in stored for t in terms(a["title"], a["text"]))
        arts, buckets, tvecs = [], [], []
        for a in stored:
            arts.append({"article_id": a["article_id"], "url": f"http://x/{a['article_id']}",
                         "canonical_url": f"http://x/{a['article_id']}", "title": a["title"],
                         "text": a["text"], "author": None, "published_at": a["anchor"],
                         "language": "en", "outlet": "o", "feed_url": "f",
                         "content_hash": content_hash(a["text"]),
                         "extraction_method": "trafilatura", "first_seen_at": a["anchor"],
                         "run_id": "fill"})
            buckets += [{"band": b, "bucket": k, "article_id": a["article_id"]}
                        for b, k in fingerprint(a["text"], s.minhash_perm, s.lsh_bands).buckets]
            v = vector(terms(a["title"], a["text"]), df, size, s.top_terms)
            tvecs += [{"article_id": a["article_id"], "term": t, "weight": w,
                       "seen_at": a["anchor"]} for t, w in v.items()]
        db.load_articles(cfg.warehouse_path, arts, [], [], [])
        db.save_stories(cfg.warehouse_path, [{"article_id": a["article_id"],
                                              "story_id": a["article_id"],
                                              "near_duplicate_of": None} for a in stored],
                        buckets, tvecs, [{"term": t, "df": n} for t, n in df.items()]
                        + [{"term": "#docs", "df": size}], [])
        costs = []
        for rep in range(3):
            new = [synthetic(rng, vocab, size + rep * batch + j) for j in range(batch)]
            rows = [{**a, "article_id": f"n{rep}{a['article_id']}",
                     "url": f"http://y/{rep}/{a['article_id']}",
                     "canonical_url": f"http://y/{rep}/{a['article_id']}",
                     "author": None, "published_at": a["anchor"], "language": "en",
                     "outlet": "o", "feed_url": "f", "content_hash": content_hash(a["text"]),
                     "extraction_method": "trafilatura", "first_seen_at": a["anchor"],
                     "run_id": "b"} for a in new]
            for r in rows:
                r.pop("anchor")
            db.load_articles(cfg.warehouse_path, rows, [], [], [])
            t0 = time.perf_counter()
            db.known_articles(cfg.warehouse_path, [{"canonical_url": r["canonical_url"],
                                                    "content_hash": r["content_hash"]}
                                                   for r in rows])
            assign_stories(cfg, [r["article_id"] for r in rows])
            costs.append((time.perf_counter() - t0) / batch)
        # Python memory of one more batch's clustering alone (the fill above is the harness).
        new = [synthetic(rng, vocab, size + 3 * batch + j) for j in range(batch)]
        rows = [{"article_id": f"m{a['article_id']}", "url": f"http://z/{a['article_id']}",
                 "canonical_url": f"http://z/{a['article_id']}", "title": a["title"],
                 "text": a["text"], "author": None, "published_at": a["anchor"],
                 "language": "en", "outlet": "o", "feed_url": "f",
                 "content_hash": content_hash(a["text"]), "extraction_method": "trafilatura",
                 "first_seen_at": a["anchor"], "run_id": "m"} for a in new]
        db.load_articles(cfg.warehouse_path, rows, [], [], [])
        tracemalloc.start()
        assign_stories(cfg, [r["article_id"] for r in rows])
        step_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size}\t{statistics.median(costs) * 1000:.2f}\t{peak:.0f}\t{step_peak:.1f}",
              flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.batch)
        return 0
    results = {}
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--batch",
                              str(args.batch)], capture_output=True, text=True, check=True)
        n, ms, mb, step = out.stdout.strip().split("\t")
        results[int(n)] = (float(ms), float(mb), float(step))
    base = results[min(results)][0]
    print("stored    ms/new article   × smallest   clustering peak MB   process peak RSS MB")
    for n, (ms, mb, step) in sorted(results.items()):
        print(f"{n:>7,}   {ms:>14.2f}   {ms / base:>10.2f}   {step:>18.1f}   {mb:>19.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
