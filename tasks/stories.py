"""Stage 9: every new article joins a story.

A near-duplicate (a syndicated copy: another template, caption, headline, trim or extra
paragraph; see near_dup.py) joins its original's story. Otherwise an article joins the story of
the most similar article published within the story window, when their tf-idf cosine reaches
the threshold: that is how other outlets' own reports of the same event come together. Else it
starts a story. Clustering is incremental: each run compares its articles with what is stored
(through joins on lsh_buckets and article_terms) and with each other, oldest first.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from newswatch.config import Config
from tasks import stage
from tasks.features import StoryFeatures, feature_key, story_features
from tasks.near_dup import containment, shingles
from warehouse import db

DOCS = "#docs"  # the term_df row that counts documents
CANDIDATE_FLOOR = 0.05  # cosines below this cannot decide anything; the join drops them early
# Stored articles a new one is checked against as a copy: those sharing the most LSH bands with
# it. Past 16 that share as many bands, they are copies of one another, already in one story;
# unbounded, a story's hundreds of copies (texts included) were read for each new copy.
COPY_CANDIDATES = 16
# (new, stored) article pairs one similar-articles query may aggregate, at most. DuckDB's
# aggregate over the pairs does not spill: 8 million ran out of SIMILAR_MEMORY_LIMIT (96 MB), as
# a day_bench chunk of 200 did against 43,500 stored articles that all share some term with it,
# and with the product's 16-character ids (longer than DuckDB keeps inline) 2 million now and
# then ran out too (story_scale_bench at 1.5 million stored). 1 million never did there, and
# cost no more: the join's cost is in its pairs, not in the number of queries.
PAIRS_PER_QUERY = 1_000_000
# A story window is read in stretches of these buckets, each stretch by one query, so the
# window is read once a chunk instead of once a part (at 1.5 million stored articles a chunk of
# 200 took 50 parts, each reading all 60 million term rows). 10 minutes at 500,000 articles a
# day hold ~3,500 articles: with a chunk of 200 at most ~700,000 pairs, a third of one query.
WINDOW_BUCKET_MINUTES = 10
# Below this many whole-window reads a chunk is placed as before stretches existed: parts of a
# few articles, each reading the whole window, 2 million pairs a part (whole days of day_bench
# ran so, up to 60,000 stored and 6 parts, never out of memory). Stretches, tried there
# instead, made its story stage 12-13 s a poll by poll 64 against 7.4 (not explained yet); at
# 150,000 stored (15 such parts) stretches cost 3.8 CPU-seconds against 5.0.
WHOLE_WINDOW_READS = 8
WHOLE_WINDOW_PAIRS = 2_000_000


def vector(counts: Counter[str], df: dict[str, int], docs: int, top: int) -> dict[str, float]:
    """Unit-length tf-idf vector over the `top` strongest terms (sublinear tf, smoothed idf)."""
    w = {t: (1 + math.log(c)) * (math.log((docs + 1) / (df.get(t, 0) + 1)) + 1)
         for t, c in counts.items()}
    kept = dict(sorted(w.items(), key=lambda kv: (-kv[1], kv[0]))[:top])
    norm = math.sqrt(sum(v * v for v in kept.values())) or 1.0
    return {t: v / norm for t, v in kept.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


BLOCK = 512  # rows of the pairwise product computed at once: 512 × n floats at most


def term_matrix(vectors: list[dict[str, float]], vocab: dict[str, int]) -> csr_matrix:
    """The vectors as the rows of a sparse matrix, a column per term; new terms are added to
    `vocab` (matrices built on one vocab multiply as long as the last added no terms)."""
    data, cols, ptr = [], [], [0]
    for v in vectors:
        for t, w in v.items():
            cols.append(vocab.setdefault(t, len(vocab)))
            data.append(w)
        ptr.append(len(cols))
    return csr_matrix((np.asarray(data), np.asarray(cols, dtype=np.int64), np.asarray(ptr)),
                      shape=(len(vectors), max(len(vocab), 1)))


def _batch_cosines(vectors: list[dict[str, float]],
                   floor: float) -> Callable[[int], list[tuple[int, float]]]:
    """dots(i): the (j, cosine) of every earlier article j < i whose cosine with article i
    reaches `floor` (lower ones cannot win)."""
    x = term_matrix(vectors, {})
    block: dict[str, Any] = {"start": -1, "product": None}

    def dots(i: int) -> list[tuple[int, float]]:
        start = i - i % BLOCK
        if block["start"] != start:
            end = min(start + BLOCK, len(vectors))
            block["start"], block["product"] = start, (x[start:end] @ x[:end].T).tocsr()
        m = block["product"]
        row = i - start
        lo, hi = m.indptr[row], m.indptr[row + 1]
        cols, vals = m.indices[lo:hi], m.data[lo:hi]
        keep = (cols < i) & (vals >= floor) & (vals > 0)
        return sorted(zip(cols[keep].tolist(), vals[keep].tolist(), strict=True))

    return dots


def query_parts(term_rows: list[dict[str, Any]], df: dict[str, int], docs: int,
                cap: int = PAIRS_PER_QUERY) -> list[list[dict[str, Any]]]:
    """The batch's term rows (each article's together) split into parts whose pairs cannot pass
    `cap`: an article pairs with at most the stored articles holding one of its terms, which
    are at most the sum of its terms' stored document frequencies `df`, and at most `docs`."""
    parts: list[list[dict[str, Any]]] = []
    part: list[dict[str, Any]] = []
    load = 0
    for _, group in groupby(term_rows, key=itemgetter("article_id")):
        rows = list(group)
        bound = min(docs, sum(df.get(r["term"], 0) for r in rows))
        if part and load + bound > cap:
            parts.append(part)
            part, load = [], 0
        part += rows
        load += bound
    if part:
        parts.append(part)
    return parts


Part = tuple[list[dict[str, Any]], datetime, datetime]


def window_parts(term_rows: list[dict[str, Any]], load: list[dict[str, Any]],
                 df: dict[str, int], docs: int, cap: int = PAIRS_PER_QUERY) -> list[Part]:
    """The similar-articles queries for a batch: consecutive buckets of the window (`load`,
    from db.window_load: each bucket's start, join rows and stored articles) packed into
    stretches whose pairs stay within `cap`, each read by one query over the whole batch. A
    stretch's pairs are at most its join rows, and at most its stored articles times the
    batch's articles. A stored article's rows share one seen_at, so each pair is summed whole
    within one stretch. A bucket alone past `cap` is read by parts of the batch, split as
    query_parts splits it."""
    batch = len({r["article_id"] for r in term_rows})

    def pairs(rows: int, articles: int) -> int:
        return min(rows, batch * articles)

    parts: list[Part] = []
    width = timedelta(minutes=WINDOW_BUCKET_MINUTES)
    i = 0
    while i < len(load):
        j, rows, articles = i + 1, load[i]["join_rows"], load[i]["articles"]
        while j < len(load) and pairs(rows + load[j]["join_rows"],
                                      articles + load[j]["articles"]) <= cap:
            rows, articles = rows + load[j]["join_rows"], articles + load[j]["articles"]
            j += 1
        lo = load[i]["bucket"]
        hi = load[j]["bucket"] if j < len(load) else load[j - 1]["bucket"] + width
        if pairs(rows, articles) > cap:
            parts += [(p, lo, hi) for p in query_parts(term_rows, df, docs, cap)]
        else:
            parts.append((term_rows, lo, hi))
        i = j
    return parts


def similar_parts(path: Path, term_rows: list[dict[str, Any]], df: dict[str, int], docs: int,
                  window_days: int) -> list[Part]:
    """The similar-articles queries for a batch. While the window is small enough that parts of
    the batch reading the whole window each take at most WHOLE_WINDOW_READS queries, those (as
    the scaled day has always run them); past that, the whole batch reading the window in
    stretches (window_parts), which reads it once."""
    if not term_rows:
        return []
    whole = query_parts(term_rows, df, docs, WHOLE_WINDOW_PAIRS)
    if len(whole) <= WHOLE_WINDOW_READS:
        reach = timedelta(days=window_days)
        anchors = [r["anchor"] for r in term_rows]
        lo, hi = min(anchors) - reach, max(anchors) + reach + timedelta(seconds=1)
        return [(p, lo, hi) for p in whole]
    load = db.window_load(path, term_rows, window_days, WINDOW_BUCKET_MINUTES)
    return window_parts(term_rows, load, df, docs)


@dataclass(frozen=True)
class Placement:
    article_id: str
    story_id: str
    near_duplicate_of: str | None
    similarity: float  # containment for a copy, cosine for a report, 0 for a new story


def assign_stories(cfg: Config, article_ids: list[str],
                   touched: list[str] | tuple[str, ...] = (),
                   given: dict[str, StoryFeatures] | None = None) -> list[Placement]:
    """Place the new articles in stories and refresh the stories of `touched` articles
    (new sightings change their outlet counts). `given`: features the extraction workers
    already computed, by feature_key."""
    s = cfg.stories
    path = cfg.warehouse_path
    rows = db.articles_for_stories(path, article_ids)
    if not rows and not touched:
        return []
    given = given or {}
    feats = {r["article_id"]: given.get(feature_key(r["title"] or "", r["text"]))
             or story_features(r["title"] or "", r["text"], s.minhash_perm, s.lsh_bands)
             for r in rows}
    fps = {aid: f.fingerprint for aid, f in feats.items()}
    counts = {aid: f.terms for aid, f in feats.items()}
    stored_df, stored_docs = db.term_stats(path, sorted({t for c in counts.values() for t in c}))
    batch_df = Counter(t for c in counts.values() for t in c)
    df = {t: stored_df.get(t, 0) + batch_df[t] for t in batch_df}
    docs = stored_docs + len(rows)
    vecs = {aid: vector(c, df, docs, s.top_terms) for aid, c in counts.items()}

    # What is stored: LSH neighbours (with their text, to confirm) and similar articles.
    bucket_rows = [{"band": b, "bucket": k, "article_id": aid}
                   for aid, fp in fps.items() for b, k in fp.buckets]
    found = db.lsh_candidates(path, bucket_rows, COPY_CANDIDATES)
    stored = {c["old_id"]: shingles(c["text"]) for c in found if c["text"] is not None}
    lsh: dict[str, list[tuple[str, frozenset[int], str]]] = defaultdict(list)
    for c in found:
        lsh[c["new_id"]].append((c["old_id"], stored[c["old_id"]], c["story_id"]))
    del found
    anchors = {r["article_id"]: r["anchor"] for r in rows}
    term_rows = [{"article_id": aid, "term": t, "weight": w, "anchor": anchors[aid]}
                 for aid, v in vecs.items() for t, w in v.items()]
    similar: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    parts = similar_parts(path, term_rows, stored_df, stored_docs, s.window_days)
    for c in db.similar_articles(path, parts, s.window_days, CANDIDATE_FLOOR):
        similar[c["new_id"]].append((c["old_id"], c["cosine"], c["story_id"]))

    # Within the batch, oldest first. LSH candidates through an index of buckets; cosines of
    # every pair at once as one sparse product, a block of rows at a time (C speed; a first
    # poll of thousands of articles would otherwise cost n² in Python).
    order = [r["article_id"] for r in rows]
    dots = _batch_cosines([vecs[a] for a in order], s.similarity)
    placed: list[Placement] = []
    by_bucket: dict[tuple[int, int], list[int]] = defaultdict(list)
    window = timedelta(days=s.window_days)
    for n, r in enumerate(rows):  # oldest first
        aid, fp, at = r["article_id"], fps[r["article_id"]], r["anchor"]
        near = {i for b in fp.buckets for i in by_bucket.get(b, ())}
        copies = list(lsh[aid]) + [(order[i], fps[order[i]].shingles, placed[i].story_id)
                                   for i in sorted(near)]
        best_copy = max(((containment(fp.shingles, sh), oid, sid) for oid, sh, sid in copies),
                        default=(0.0, "", ""))
        if best_copy[0] >= s.near_duplicate:
            placed.append(Placement(aid, best_copy[2], best_copy[1], round(best_copy[0], 3)))
        else:
            reports = list(similar[aid]) + [
                (order[i], d, placed[i].story_id) for i, d in dots(n)
                if abs(at - rows[i]["anchor"]) <= window]
            best = max(((sim, oid, sid) for oid, sim, sid in reports), default=(0.0, "", ""))
            if best[0] >= s.similarity:
                placed.append(Placement(aid, best[2], None, round(best[0], 3)))
            else:
                placed.append(Placement(aid, aid, None, 0.0))
        for b in fp.buckets:
            by_bucket[b].append(n)

    db.save_stories(
        path,
        placements=[{"article_id": p.article_id, "story_id": p.story_id,
                     "near_duplicate_of": p.near_duplicate_of} for p in placed],
        buckets=bucket_rows,
        terms=[{"article_id": t["article_id"], "term": t["term"], "weight": t["weight"],
                "seen_at": t["anchor"]} for t in term_rows],
        df=[{"term": t, "df": n} for t, n in batch_df.items()] + [{"term": DOCS,
                                                                  "df": len(rows)}],
        touched_articles=list(touched),
    )
    return placed


@stage("stories")
def assign_stories_task(cfg: Config, article_ids: list[str], touched: list[str],
                        given: dict[str, StoryFeatures]) -> list[Placement]:
    return assign_stories(cfg, article_ids, touched, given)

