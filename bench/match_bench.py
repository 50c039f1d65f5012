"""Percolation speed: 100 topics against 10,000 articles.

    python bench/match_bench.py [--articles 10000] [--topics 100] [--repeat 3]

Articles are BASIL's 300 real news articles (from $NEWSWATCH_CORPUS/events/basil, ~3.7 KB of
text each) cycled to the count asked, or the seed fixture's pages when the corpus is absent.
Topics are the default topic plus generated queries of every kind (terms, phrases, proximity,
wildcards, fields, NOT, metadata). Prints the median of the repeats: articles per second for
tokenising alone and for the whole match, and the number of matches."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.config import TopicSpec, load_topics  # noqa: E402
from tasks.match import document, percolate  # noqa: E402
from tasks.topics import stem, tokens  # noqa: E402


def load_articles() -> tuple[list[dict], str]:
    basil = Path(os.environ.get("NEWSWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    path = basil / "events" / "basil" / "basil_articles.jsonl"
    if path.exists():
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return [{"title": r["title"], "text": r["text"].replace("\n\n", "\n"),
                 "outlet": r["outlet"], "canonical_url": r["url"], "language": "en"}
                for r in rows], f"BASIL ({path})"
    pages = sorted((ROOT / "seeds" / "fixture" / "sites").rglob("*.html"))
    return [{"title": p.stem.replace("-", " "), "text": re.sub(r"<[^>]+>", " ", p.read_text()),
             "outlet": "", "canonical_url": "", "language": "en"} for p in pages], "fixture"


def make_topics(articles: list[dict], n: int, seed: int = 7) -> list[TopicSpec]:
    rng = random.Random(seed)
    counts = Counter(t for a in articles for t in tokens(a["text"]) if len(t) > 3)
    vocab = [w for w, _ in counts.most_common(2000)[50:]]  # skip the commonest words
    w = lambda: rng.choice(vocab)  # noqa: E731
    templates = [
        lambda: f"{w()} AND {w()}",
        lambda: f'"{w()} {w()}"~10 AND ({w()} OR {w()})',
        lambda: f"title:{w()} OR lead:({w()} AND {w()})",
        lambda: f"{w()[:4]}* AND NOT {w()}",
        lambda: f'"{w()} {w()}" OR ({w()} AND {w()} AND {w()})',
        lambda: f"({w()} OR {w()} OR {w()}) AND outlet:nyt",
        lambda: f'text:"{w()} {w()} {w()}"~20 -{w()}',
    ]
    topics = list(load_topics(ROOT / "seeds" / "topics.toml"))
    while len(topics) < n:
        topics.append(TopicSpec(f"t{len(topics)}", rng.choice(templates)()))
    return topics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base, source = load_articles()
    rows = [{**base[i % len(base)], "article_id": str(i)} for i in range(args.articles)]
    topics = make_topics(base, args.topics)
    for a in base:  # warm the stem cache as a long-running process would have it
        [stem(t) for t in tokens(a["text"])]
    tok, full, found = [], [], 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for r in rows:
            document(r)
        tok.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        found = sum(1 for _ in percolate(topics, rows))
        full.append(time.perf_counter() - t0)
    n = len(rows)
    print(f"articles: {n} from {source}; topics: {len(topics)}; repeats: {args.repeat}")
    print(f"tokenise only : median {statistics.median(tok):.2f} s = "
          f"{n / statistics.median(tok):,.0f} articles/s")
    print(f"match {len(topics)} topics: median {statistics.median(full):.2f} s = "
          f"{n / statistics.median(full):,.0f} articles/s "
          f"({n * len(topics) / statistics.median(full):,.0f} article-topic pairs/s)")
    print(f"matching share of the time: {1 - statistics.median(tok) / statistics.median(full):.0%}"
          f"; matches found: {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
