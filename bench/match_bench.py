"""Percolation speed: 100 topics against 10,000 articles.

    python bench/match_bench.py [--articles 10000] [--topics 100] [--repeat 3]

Articles are BASIL's 300 real news articles (from $NEWSWATCH_CORPUS/events/basil, ~3.7 KB of
text each) cycled to the count asked, or the seed fixture's pages when the corpus is absent.
Topics are the default topic plus generated queries of every kind (terms, phrases, proximity,
wildcards, fields, NOT, metadata). With models on (the default), every topic has a relevance
model the size of the shipped one (the default topic's own; the generated topics get a copy
of its weights fitted to their own concepts' count), applied to each query match as in a run.
Prints the median of the repeats: articles per second for tokenising alone, for the queries
alone, and for queries plus models, and the models' share of the time."""

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
from tasks.labels import model_path  # noqa: E402
from tasks.match import document, percolate  # noqa: E402
from tasks.relevance import Model, concept_features, concepts  # noqa: E402
from tasks.topics import Document, parse_query, stem, tokens  # noqa: E402


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


def make_models(topics: list[TopicSpec]) -> dict[str, Model]:
    from dataclasses import replace

    from newswatch.config import load_config

    cfg = load_config(ROOT / "newswatch.toml")
    base = Model.load(model_path(cfg, topics[0].name))
    probe = Document("a b", "a b. c d.")
    out = {}
    for t in topics:
        k = len(concept_features(concepts(parse_query(t.query, t.aliases)), probe))
        out[t.name] = base if k == len(base.concept_weights) else replace(
            base, concept_weights=[0.1] * k, concept_mean=[0.0] * k, concept_scale=[1.0] * k)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-models", action="store_true", help="queries only")
    args = ap.parse_args()
    base, source = load_articles()
    rows = [{**base[i % len(base)], "article_id": str(i)} for i in range(args.articles)]
    topics = make_topics(base, args.topics)
    for a in base:  # warm the stem cache as a long-running process would have it
        [stem(t) for t in tokens(a["text"])]
    models = {} if args.no_models else make_models(topics)
    tok, query, full, found, judged = [], [], [], 0, 0
    for _ in range(args.repeat):  # the three measured side by side in each repeat
        t0 = time.perf_counter()
        for r in rows:
            document(r)
        tok.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        found = sum(1 for _ in percolate(topics, rows))
        query.append(time.perf_counter() - t0)
        if models:
            t0 = time.perf_counter()
            judged = sum(1 for m in percolate(topics, rows, models) if m.probability is not None)
            full.append(time.perf_counter() - t0)
    n = len(rows)
    med = statistics.median
    print(f"articles: {n} from {source}; topics: {len(topics)}; repeats: {args.repeat}")
    print(f"tokenise only     : median {med(tok):.2f} s = {n / med(tok):,.0f} articles/s")
    print(f"queries only      : median {med(query):.2f} s = {n / med(query):,.0f} articles/s "
          f"({n * len(topics) / med(query):,.0f} article-topic pairs/s); "
          f"matches: {found}")
    if models:
        print(f"queries + models  : median {med(full):.2f} s = {n / med(full):,.0f} articles/s;"
              f" model judgements: {judged}")
        print(f"model cost: {med(full) - med(query):.2f} s = "
              f"{1000 * (med(full) - med(query)) / max(1, judged):.2f} ms per judgement, "
              f"{1 - med(query) / med(full):.0%} of the match time; "
              f"queries + models at {med(query) / med(full):.2f}x the queries-only speed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
