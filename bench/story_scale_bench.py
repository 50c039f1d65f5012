"""Story placement at a real day's scale: the cost of one chunk's similar-articles query
(tasks/stories.py, warehouse/sql/similar_articles.sql) against a story window as full as
500,000 articles a day makes it.

    NEWSWATCH_CORPUS=../shared/corpus python bench/story_scale_bench.py [--sizes 150000 1500000]

The window's stored articles are copies of the tf-idf vectors of the corpus's 3,595 real
articles (NEWSWATCH_CORPUS/topics), spread evenly over the window's 3 days and appended in time
order as a run appends them, so every term's document frequency is the real articles' own,
scaled to the window. (A real window's rarest terms are rarer than that: the scaled bound is a
little high.) A chunk of 200 new articles, real vectors held out of the window, is then placed
as a run places it (`similar_parts`: `db.window_load` counts the join rows per 10 minutes of
the window, `window_parts` packs them into stretches under PAIRS_PER_QUERY) and
`db.similar_articles` runs each part, in a fresh process against the filled file. Each size
prints the parts, the join rows per new article (the sum of its terms' document
frequencies), the queries' wall and CPU time and their process's peak RSS, and what a day of
chunks would cost at that scale.

`--probe` measures a cheaper candidate search on the same real articles, in memory: stored
articles found through only a new article's K strongest terms (K of the 40 stored), how many
of the pairs whose cosine reaches the story threshold it finds, and whether each article's
best match survives when only the M best candidates by that partial score are scored exactly.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHUNK = 200  # [ingest] chunk_pages: a run places its articles a chunk at a time
PER_DAY = 500_000  # the day: Media Cloud's and GDELT's volume
WINDOW_DAYS = 3  # [stories] window_days
END = datetime(2025, 2, 10, tzinfo=UTC)  # the chunk's articles are dated at the window's end


def real_vectors() -> list[dict[str, float]]:
    """The corpus's real articles as story placement stores them: top-term tf-idf vectors."""
    from newswatch.config import StoriesConfig
    from tasks.features import story_features
    from tasks.stories import vector

    root = os.environ.get("NEWSWATCH_CORPUS")
    if not root:
        sys.exit("set NEWSWATCH_CORPUS to the shared corpus (../shared/corpus)")
    s = StoriesConfig()
    arts = [json.loads(line) for name in ("general_dev", "trump_putin_dev")
            for line in (Path(root) / "topics" / f"{name}.jsonl").open(encoding="utf-8")]
    terms = [story_features(a["title"] or "", a["text"] or "", s.minhash_perm,
                            s.lsh_bands).terms for a in arts]
    df = Counter(t for c in terms for t in c)
    return [vector(c, df, len(terms), s.top_terms) for c in terms]


# Stored ids as the product makes them (tasks/dedup.py: 16 hex digits of a URL's SHA-256): the
# query groups its pairs on them, and ids past 12 bytes are not stored inline, which costs.
IDS = "(SELECT i, substr(sha256('u' || i), 1, 16) AS id FROM range({n}) AS r(i)) AS r"


def fill(path: Path, stored: list[dict[str, float]], n: int) -> None:
    """n stored articles (copies of `stored`, in turn), their terms and document frequencies."""
    import duckdb
    import pyarrow as pa

    from warehouse import db

    db.migrate(path)
    rows = [(k, t, w) for k, v in enumerate(stored) for t, w in v.items()]
    proto = pa.table({"vid": [r[0] for r in rows], "term": [r[1] for r in rows],
                      "weight": [r[2] for r in rows]})
    step_us = WINDOW_DAYS * 86_400e6 / n
    with duckdb.connect(str(path)) as con:
        con.register("proto", proto)
        con.execute(
            f"INSERT INTO article_terms SELECT r.id, p.term, p.weight, "
            f"TIMESTAMPTZ '{END.isoformat()}' - INTERVAL {WINDOW_DAYS} DAY "
            f"+ to_microseconds(CAST(r.i * {step_us} AS BIGINT)) "
            f"FROM {IDS.format(n=n)} JOIN proto AS p ON p.vid = r.i % {len(stored)} "
            f"ORDER BY r.i")
        con.execute("INSERT INTO term_df SELECT term, count(*) FROM article_terms GROUP BY term")
        con.execute(f"INSERT INTO term_df VALUES ('#docs', {n})")
        # The query looks up each new article's best match's story: every stored article is
        # a story of its own here.
        con.execute(
            f"INSERT INTO articles (article_id, url, canonical_url, text, outlet, feed_url, "
            f"content_hash, extraction_method, first_seen_at, run_id, story_id) "
            f"SELECT id, 'u' || i, 'u' || i, '', 'o', 'f', 'h' || i, 'trafilatura', "
            f"TIMESTAMPTZ '{END.isoformat()}', 'fill', id FROM {IDS.format(n=n)}")


def query(path: Path, new: list[dict[str, float]]) -> dict[str, float]:
    """Place one chunk's articles' similar-articles query, as assign_stories runs it."""
    from tasks.stories import CANDIDATE_FLOOR, similar_parts
    from warehouse import db

    stored_df, docs = db.term_stats(path, sorted({t for v in new for t in v}))
    term_rows = [{"article_id": f"n{i}", "term": t, "weight": w, "anchor": END}
                 for i, v in enumerate(new) for t, w in v.items()]
    join_rows = sum(min(docs, sum(stored_df.get(t, 0) for t in v)) for v in new)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    parts = similar_parts(path, term_rows, stored_df, docs, WINDOW_DAYS)
    found = db.similar_articles(path, parts, WINDOW_DAYS, CANDIDATE_FLOOR)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"parts": len(parts), "join_rows": join_rows / len(new), "found": len(found),
            "wall": wall, "cpu": (after.ru_utime + after.ru_stime
                                  - before.ru_utime - before.ru_stime),
            "peak_mib": after.ru_maxrss / 1024}


def probe(vectors: list[dict[str, float]], threshold: float) -> None:
    """Candidates through each article's K strongest terms, against every other article."""
    import numpy as np

    from tasks.stories import term_matrix

    vocab: dict[str, int] = {}
    n = len(vectors)
    full = term_matrix(vectors, vocab)
    cos = (full @ full.T).toarray()
    np.fill_diagonal(cos, 0)
    pairs = np.argwhere(cos >= threshold)
    best = cos.argmax(1)
    placed = [i for i in range(n) if cos[i, best[i]] >= threshold]
    df = Counter(t for v in vectors for t in v)
    print(f"{n} real articles; {len(pairs)} ordered pairs with cosine >= {threshold}; "
          f"{len(placed)} articles with a match")
    print(f"{'K':>3} {'pairs found':>12} {'join rows/article':>18} "
          + " ".join(f"{'best kept, M=' + str(m):>16}" for m in (10, 20, 50)))
    for k in (5, 10, 15, 20, 40):
        strong = [dict(sorted(v.items(), key=lambda kv: -kv[1])[:k]) for v in vectors]
        partial = (term_matrix(strong, vocab) @ full.T).toarray()
        np.fill_diagonal(partial, 0)
        found = sum(bool(partial[i, j] > 0) for i, j in pairs) / len(pairs)
        rows = sum(sum(df[t] for t in v) for v in strong) / n
        kept = []
        for m in (10, 20, 50):
            ok = 0
            for i in placed:
                cand = np.argpartition(-partial[i], m)[:m]
                ok += cos[i, cand].max() >= cos[i, best[i]] - 1e-12
            kept.append(f"{ok}/{len(placed)}")
        print(f"{k:>3} {found:>12.4f} {rows:>9.0f} ({rows / n:.3f} N) "
              + " ".join(f"{x:>16}" for x in kept))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[150_000, 1_500_000],
                    help="stored articles in the window (1,500,000: 3 days at 500,000 a day)")
    ap.add_argument("--probe", action="store_true",
                    help="measure candidates through each article's strongest terms instead")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    vectors = real_vectors()
    if args.probe:
        from newswatch.config import StoriesConfig

        probe(vectors, StoriesConfig().similarity)
        return
    held_out = vectors[1::len(vectors) // CHUNK][:CHUNK]  # spread over both files
    stored = [v for v in vectors if not any(v is h for h in held_out)]
    if args.child:
        step, path, n = args.child
        if step == "fill":
            fill(Path(path), stored, int(n))
        else:
            print(json.dumps(query(Path(path), held_out)))
        return
    print(f"{os.cpu_count()} cores; a chunk of {CHUNK} new articles against n stored in the "
          f"{WINDOW_DAYS}-day window; {len(stored)} real vectors, copied")
    print(f"{'stored':>10} {'parts':>6} {'join rows/article':>18} {'matched':>8} {'wall s':>7} "
          f"{'CPU s':>7} {'peak MiB':>9} {'CPU h/day at this n':>20}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "w.duckdb"
            run = [sys.executable, __file__, "--child"]
            subprocess.run([*run, "fill", str(path), str(n)], check=True)
            got = json.loads(subprocess.run([*run, "query", str(path), str(n)], check=True,
                                            capture_output=True, text=True).stdout)
        # A day at the window's rate: n / WINDOW_DAYS articles, in chunks of CHUNK.
        day_h = got["cpu"] * n / WINDOW_DAYS / CHUNK / 3600
        print(f"{n:>10,} {got['parts']:>6} {got['join_rows']:>18,.0f} {got['found']:>8} "
              f"{got['wall']:>7.1f} "
              f"{got['cpu']:>7.1f} {got['peak_mib']:>9.0f} {day_h:>20.1f}", flush=True)
    print("matched: new articles with a stored article at cosine >= the query's floor; "
          "CPU h/day: the query's CPU for one chunk times the chunks of a day that keeps the "
          f"window this full (n / {WINDOW_DAYS} articles a day); a 2-core machine has 48.")


if __name__ == "__main__":
    main()
