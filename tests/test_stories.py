"""Copies, versions and stories: unit checks, the fixture end to end, and the corpus gates."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest

from tasks.features import terms
from tasks.near_dup import LEAD_BAND, containment, fingerprint
from tasks.stories import cosine, vector
from tests import servers
from tests.conftest import FIXTURE, ROOT, fixture_expectations, fixture_feeds, write_config
from tests.corpus import corpus_dir

SEED_PAGE = next(p for p, e in fixture_expectations().items() if e["role"] == "seed")
PARAS = [f"Paragraph {i} tells of event {i} with details {i * 7} and names {i * 3}." for i in
         range(12)]


def test_a_trim_is_contained_in_its_original() -> None:
    full, trim = fingerprint("\n".join(PARAS), 64, 16), fingerprint("\n".join(PARAS[:5]), 64, 16)
    assert containment(full.shingles, trim.shingles) == 1.0
    lead = dict(full.buckets)[LEAD_BAND]
    assert dict(trim.buckets)[LEAD_BAND] == lead  # the opening-words band finds the trim
    other = fingerprint("Something else entirely. " * 20, 64, 16)
    assert containment(full.shingles, other.shingles) == 0.0


def test_minhash_is_datasketchs_so_stored_buckets_stay_valid() -> None:
    """near_dup computes datasketch 2.0's MinHash in numpy (the workers need not import
    datasketch and scipy): the values, and so the lsh_buckets already stored, are the same."""
    from datasketch import MinHash

    from tasks.near_dup import minhash, shingles

    for text in ("\n".join(PARAS), "Something else entirely. " * 20, "two words", ""):
        sh = shingles(text)
        m = MinHash(num_perm=64, seed=1)
        if sh:
            m.update_batch([s.to_bytes(8, "big", signed=True) for s in sh])
        assert minhash(sh, 64).tolist() == [int(v) for v in m.hashvalues]


def test_tfidf_vectors_are_unit_length_and_weigh_titles() -> None:
    c = terms("Putin summit", "The summit was held. Officials said the summit went well.")
    assert c["summit"] == 3 + 2 and c["putin"] == 3 and "the" not in c and "said" not in c
    v = vector(c, {"summit": 1, "putin": 1, "offici": 50, "held": 50}, 100, 40)
    assert round(sum(w * w for w in v.values()), 9) == 1.0
    assert max(v, key=v.get) == "summit"
    assert round(cosine(v, v), 9) == 1.0


def _load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def q(cfg: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(cfg.parent / "nw.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def run(cfg: Path):  # type: ignore[no-untyped-def]
    from flows.ingest import ingest

    return asyncio.run(ingest(str(cfg), all_feeds=True))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_copies_sightings_and_versions_end_to_end(site: servers.Server, tmp_path: Path) -> None:
    cfg = write_config(tmp_path, fixture_feeds(site.url))
    first = run(cfg)
    assert (first.articles_new, first.near_duplicates, first.stories_new) == (7, 2, 5)
    assert q(cfg, """SELECT title, first_outlet, articles, outlets FROM stories
                     ORDER BY outlets DESC, title""") == [
        ("Trump says he has spoken to Putin about ending Ukraine war", "The Daily Meridian", 3, 3),
        ("Central bank holds rates steady as inflation eases", "Northern Ledger", 1, 1),
        ("Chess federation names venue for next world championship match", "Capital Wire", 1, 1),
        ("Council approves new cycle lanes after two-year debate", "The Daily Meridian", 1, 1),
        ("European shares slip as tariff threats and Russian gas duties weigh", "Capital Wire",
         1, 1),
    ]

    # A fourth outlet republishes the seed word for word at its own URL (its own canonical):
    # one more sighting and outlet for the story, no new article, no new alert.
    seed_html = (FIXTURE / SEED_PAGE).read_text(encoding="utf-8")
    copy = (seed_html.replace("https://www.dailymeridian.example/", "https://echo.example/")
            .replace('content="The Daily Meridian"', 'content="The Echo"'))
    site.routes["/echo/copy.html"] = servers.body(copy.encode())
    # And the Meridian updates the report at a new URL with the same canonical: a version.
    updated = seed_html.replace("</p>\n</div>", "</p>\n<p>Update: the Kremlin later said the "
                                "call had taken place on Wednesday.</p>\n</div>", 1)
    site.routes["/update/seed.html"] = servers.body(updated.encode())
    feed = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>More</title>'
            f'<item><title>Echo</title><link>{site.url}/echo/copy.html</link></item>'
            f'<item><title>Update</title><link>{site.url}/update/seed.html</link></item>'
            f'</channel></rss>').encode()
    site.routes["/more.xml"] = servers.body(feed, "application/rss+xml")
    cfg = write_config(tmp_path, [*fixture_feeds(site.url),
                                  {"name": "More", "url": f"{site.url}/more.xml"}])
    second = run(cfg)
    assert (second.entries_new, second.articles_new, second.duplicates, second.alerts_new) == (
        2, 0, 2, 0)
    assert q(cfg, "SELECT count(*) FROM articles") == [(7,)]
    assert q(cfg, """SELECT articles, outlets FROM stories WHERE title LIKE 'Trump says%'""") == [
        (3, 4)]
    assert q(cfg, """SELECT s.outlet FROM sightings s JOIN articles a USING (article_id)
                     WHERE a.title LIKE 'Trump says%' ORDER BY s.outlet""") == [
        ("The Daily Meridian",), ("The Daily Meridian",), ("The Echo",)]
    assert q(cfg, """SELECT version, is_latest, text LIKE '%Update: the Kremlin%'
                     FROM article_history WHERE title LIKE 'Trump says%' ORDER BY version""") == [
        (1, False, False), (2, True, True)]


def test_basil_story_clustering() -> None:
    """Incremental, one run per day, over BASIL's 100 events × 3 outlets (bench/story_eval.py).
    Measured 2026-11: precision 0.980, recall 0.971, F1 0.976 at the default threshold."""
    corpus_dir("events", "basil")
    e = _load("story_eval").run(0.2, 3, 40)
    assert e["precision"] >= 0.90 and e["f1"] >= 0.90
    assert (round(e["precision"], 3), round(e["recall"], 3)) == (0.980, 0.971)


def test_near_duplicate_set() -> None:
    """Copies of real articles found, other outlets' reports of the same event not
    (bench/near_dup_eval.py)."""
    corpus_dir("events", "basil")
    e = _load("near_dup_eval").evaluate(120)
    assert (e["positives"], e["negatives"]) == (484, 361)
    assert e["precision"] >= 0.99 and e["recall"] >= 0.95


def test_best_stored_match_within_the_joins_memory_cap(tmp_path: Path) -> None:
    """A poll of 400 articles against 2,000 stored ones that all share terms with each other:
    6.4 million term pairs, 800,000 article pairs. Each new article is a copy of one stored
    article's terms and must find exactly that one (cosine 1), and the join must finish within
    SIMILAR_MEMORY_LIMIT (when it joined articles before summing, it ran out of memory here)."""
    import random
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa

    from warehouse import db

    rnd = random.Random(5)
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    at = datetime(2025, 2, 9, 12, tzinfo=UTC)
    vocab = [f"term{i}" for i in range(200)]
    stored = {f"old{i:04d}": rnd.sample(vocab, 40) for i in range(2000)}
    w = 40 ** -0.5
    ids = pa.table({"id": list(stored)})
    terms = pa.table({"a": [a for a, ts in stored.items() for _ in ts],
                      "t": [t for ts in stored.values() for t in ts]})
    with duckdb.connect(str(path)) as con:
        con.register("ids", ids)
        con.register("terms", terms)
        con.execute("""INSERT INTO articles (article_id, url, canonical_url, text, outlet,
                         feed_url, content_hash, extraction_method, first_seen_at, run_id,
                         story_id)
                       SELECT id, id, id, 'text', 'outlet', 'feed', id, 'trafilatura', $at,
                              'run', 'story-' || id FROM ids""", {"at": at})
        con.execute("INSERT INTO article_terms SELECT a, t, $w, $at FROM terms",
                    {"w": w, "at": at})
    copies = {f"new{i:04d}": f"old{i * 5:04d}" for i in range(400)}
    batch = [{"article_id": n, "term": t, "weight": w, "anchor": at}
             for n, o in copies.items() for t in stored[o]]
    got = db.similar_articles(path, [(batch, at, at + timedelta(minutes=1))], 3, 0.05)
    assert sorted((r["new_id"], r["old_id"], r["story_id"], r["cosine"]) for r in got) == [
        (n, o, f"story-{o}", 1.0) for n, o in sorted(copies.items())]


def test_query_parts_bound_each_querys_pairs() -> None:
    """An article pairs with at most the stored articles holding one of its terms (the sum of
    their document frequencies, at most every stored article): parts hold whole articles, in
    order, and one whose bound alone passes the cap goes alone."""
    from tasks.stories import query_parts

    rows = [{"article_id": a, "term": t} for a, ts in
            [("a", ["x", "y"]), ("b", ["x"]), ("c", ["z", "new"]), ("d", ["y"]), ("e", ["x"])]
            for t in ts]
    df = {"x": 4, "y": 3, "z": 50}
    parts = query_parts(rows, df, docs=20, cap=10)
    assert [[(r["article_id"], r["term"]) for r in p] for p in parts] == [
        [("a", "x"), ("a", "y")],  # 7
        [("b", "x")],  # 4, then c's 20 (not 50: 20 stored) would pass 10
        [("c", "z"), ("c", "new")],
        [("d", "y"), ("e", "x")],  # 3 + 4
    ]
    assert query_parts([], df, 20) == []


def test_a_poll_whose_pairs_pass_one_querys_memory_is_placed_in_parts(tmp_path: Path) -> None:
    """1,000 new articles against 12,000 stored, all sharing one term: 12 million pairs, more
    than one query's aggregate holds within SIMILAR_MEMORY_LIMIT (as one query it ran out of
    memory, as the day bench's placement did at 43,500 stored articles). In parts of at most
    PAIRS_PER_QUERY pairs, each new article finds its own stored copy (cosine 1)."""
    from datetime import UTC, datetime, timedelta

    from tasks.stories import PAIRS_PER_QUERY, WINDOW_BUCKET_MINUTES, query_parts, window_parts
    from warehouse import db

    path = tmp_path / "w.duckdb"
    db.migrate(path)
    at = datetime(2025, 2, 9, 12, tzinfo=UTC)
    stored = 12_000
    with duckdb.connect(str(path)) as con:
        ids = "SELECT 'stored-' || lpad(i::varchar, 6, '0') AS id, i FROM range($n) t(i)"
        con.execute(f"""INSERT INTO articles (article_id, url, canonical_url, text, outlet,
                          feed_url, content_hash, extraction_method, first_seen_at, run_id,
                          story_id)
                        SELECT id, id, id, 'text', 'outlet', 'feed', id, 'trafilatura', $at,
                               'run', 'story-' || id FROM ({ids})""", {"at": at, "n": stored})
        con.execute(f"""INSERT INTO article_terms
                        SELECT id, CASE WHEN k = 0 THEN 'common' ELSE 'own' || i || '-' || k END,
                               0.5, $at
                        FROM ({ids}), range(4) u(k)""", {"at": at, "n": stored})
    batch = [{"article_id": f"new-{j:04d}", "term": t, "weight": 0.5, "anchor": at}
             for j in range(1000) for t in ["common", *(f"own{j * 7}-{k}" for k in (1, 2, 3))]]
    df = {"common": stored} | {f"own{i}-{k}": 1 for i in range(stored) for k in (1, 2, 3)}
    # All stored at one time: one bucket of the window, past the cap alone, so the poll is
    # split as query_parts splits it, each part reading that bucket.
    load = db.window_load(path, batch, 3, WINDOW_BUCKET_MINUTES)
    assert load == [{"bucket": datetime(2025, 2, 9, 12, tzinfo=UTC),
                     "join_rows": 1000 * stored + 1000 * 3,  # common, own terms
                     "articles": stored}]
    parts = window_parts(batch, load, df, stored)
    per_part = PAIRS_PER_QUERY // stored  # 83 articles, their 4 terms each
    assert [len(p) for p, _, _ in parts] == [per_part * 4] * 12 + [(1000 - 12 * per_part) * 4]
    assert parts == [(p, at, at + timedelta(minutes=10)) for p in query_parts(batch, df, stored)]
    got = db.similar_articles(path, parts, 3, 0.05)
    assert sorted((r["new_id"], r["old_id"], r["story_id"], r["cosine"]) for r in got) == [
        (f"new-{j:04d}", f"stored-{j * 7:06d}", f"story-stored-{j * 7:06d}", 1.0)
        for j in range(1000)]


def test_copy_candidates_are_the_stored_articles_sharing_the_most_bands(tmp_path: Path) -> None:
    """Two new articles against 40 stored ones sharing 1 to 17 of their bands (a story's stored
    copies): for each, only the COPY_CANDIDATES (16) that share the most come back, ties to the
    greater id, and each stored text once however many new articles it is a candidate for."""
    from datetime import UTC, datetime

    import pyarrow as pa

    from tasks.stories import COPY_CANDIDATES
    from warehouse import db

    path = tmp_path / "w.duckdb"
    db.migrate(path)
    at = datetime(2025, 2, 9, 12, tzinfo=UTC)
    shared = {f"old{i:02d}": i % 17 + 1 for i in range(40)}  # bands in common with the new one
    with duckdb.connect(str(path)) as con:
        con.register("ids", pa.table({"id": list(shared)}))
        con.execute("""INSERT INTO articles (article_id, url, canonical_url, text, outlet,
                         feed_url, content_hash, extraction_method, first_seen_at, run_id,
                         story_id)
                       SELECT id, id, id, 'text of ' || id, 'outlet', 'feed', id,
                              'trafilatura', $at, 'run', 'story-' || id FROM ids""",
                    {"at": at})
        con.register("buckets", pa.table({
            "article_id": [o for o, n in shared.items() for _ in range(n)],
            "band": [b for n in shared.values() for b in range(n)]}))
        con.execute("INSERT INTO lsh_buckets SELECT band, band * 1000, article_id FROM buckets")
    batch = [{"article_id": new, "band": b, "bucket": b * 1000}
             for new in ("new1", "new2") for b in range(17)]
    got = db.lsh_candidates(path, batch, COPY_CANDIDATES)
    assert COPY_CANDIDATES == 16
    expected = sorted(sorted(shared, reverse=True), key=lambda o: -shared[o])[:16]
    assert sorted((r["new_id"], r["old_id"], r["story_id"]) for r in got) == sorted(
        (new, o, f"story-{o}") for new in ("new1", "new2") for o in expected)
    texts = sorted(r["text"] for r in got if r["text"] is not None)
    assert texts == sorted(f"text of {o}" for o in expected)


def test_window_parts_pack_buckets_into_stretches_under_the_cap() -> None:
    """Consecutive buckets join one stretch while its pairs fit the cap: at most its join rows,
    and at most its stored articles times the batch's. A stretch ends where the next begins
    (empty buckets between them included) and the last one bucket after its last start; a
    bucket alone past the cap is read by parts of the batch (query_parts)."""
    from datetime import UTC, datetime, timedelta

    from tasks.stories import window_parts

    t0 = datetime(2025, 2, 9, tzinfo=UTC)
    at = [t0 + timedelta(minutes=10 * k) for k in range(9)]
    rows = [{"article_id": a, "term": t} for a, ts in [("a", ["x"]), ("b", ["y"])] for t in ts]

    def bucket(k: int, join_rows: int, articles: int) -> dict:
        return {"bucket": at[k], "join_rows": join_rows, "articles": articles}

    load = [bucket(0, 4, 5), bucket(1, 5, 5), bucket(2, 2, 1), bucket(5, 12, 2),
            bucket(6, 30, 6), bucket(7, 10, 9)]
    parts = window_parts(rows, load, {"x": 8, "y": 9}, docs=20, cap=10)
    assert parts == [
        (rows, at[0], at[2]),  # 4 + 5 join rows; 2 more would pass 10
        (rows, at[2], at[6]),  # 14 join rows, but 3 stored articles: 2 x 3 pairs at most
        ([rows[0]], at[6], at[7]),  # min(30, 2 x 6) > 10: a's 8 and b's 9 pairs at most, apart
        ([rows[1]], at[6], at[7]),
        (rows, at[7], at[8]),  # 10: the cap is inclusive
    ]
    assert window_parts(rows, [], {}, 0) == []


def test_a_window_read_in_stretches_finds_what_one_read_finds(tmp_path: Path) -> None:
    """3,000 stored articles over three days on a 300-term vocabulary, 60 new ones dated across
    the last day: read in stretches of a small cap (many queries, each reading only its stretch
    of the window) each new article finds the very match one read of the whole window finds,
    which is the best by cosine (then greater id) computed here in Python."""
    import random
    from datetime import UTC, datetime, timedelta
    from itertools import pairwise

    import pyarrow as pa

    from tasks.stories import WINDOW_BUCKET_MINUTES, similar_parts, window_parts
    from warehouse import db

    rnd = random.Random(11)
    path = tmp_path / "w.duckdb"
    db.migrate(path)
    t0 = datetime(2025, 2, 7, tzinfo=UTC)
    vocab = [f"t{i}" for i in range(300)]

    def unit() -> dict[str, float]:
        w = {t: rnd.random() for t in rnd.sample(vocab, 12)}
        n = sum(v * v for v in w.values()) ** 0.5
        return {t: v / n for t, v in w.items()}

    stored = {f"old{i:05d}": (t0 + timedelta(seconds=86 * i), unit()) for i in range(3000)}
    with duckdb.connect(str(path)) as con:
        con.register("ids", pa.table({"id": list(stored)}))
        con.execute("""INSERT INTO articles (article_id, url, canonical_url, text, outlet,
                         feed_url, content_hash, extraction_method, first_seen_at, run_id,
                         story_id)
                       SELECT id, id, id, 'text', 'outlet', 'feed', id, 'trafilatura', now(),
                              'run', 'story-' || id FROM ids""")
        con.register("terms", pa.Table.from_pylist(
            [{"a": a, "t": t, "w": w, "seen": at} for a, (at, v) in stored.items()
             for t, w in v.items()]))
        con.execute("INSERT INTO article_terms SELECT a, t, w, seen FROM terms ORDER BY seen")
    new = {f"new{j:03d}": (t0 + timedelta(days=2, minutes=24 * j), unit()) for j in range(60)}
    batch = [{"article_id": n, "term": t, "weight": w, "anchor": at}
             for n, (at, v) in new.items() for t, w in v.items()]
    window = timedelta(days=1)  # window_days below

    one = db.similar_articles(path, [(batch, t0, t0 + timedelta(days=4))], 1, 0.05)
    load = db.window_load(path, batch, 1, WINDOW_BUCKET_MINUTES)
    parts = window_parts(batch, load, {}, 0, cap=5_000)
    assert (len(load), len(parts), sum(r["join_rows"] for r in load)) == (286, 11, 49_859)
    assert all(lo < hi for _, lo, hi in parts)
    assert all(a[2] == b[1] for a, b in pairwise(parts))
    apart = db.similar_articles(path, parts, 1, 0.05)
    assert sorted(apart, key=str) == sorted(one, key=str)
    # As assign_stories plans it: in stretches when the chunk's pairs may pass one query's cap
    # (here, stored document frequencies of a million), else one query over the window.
    big = dict.fromkeys(vocab, 10**6)
    assert similar_parts(path, batch, big, 10**9, 1) == [
        (batch, load[0]["bucket"], load[-1]["bucket"] + timedelta(minutes=10))]
    assert similar_parts(path, batch, {}, 3000, 1) == [
        (batch, t0 + timedelta(days=1), t0 + timedelta(days=3, minutes=24 * 59, seconds=1))]

    expected = {}
    for n, (at, v) in new.items():
        scored = [(round(cosine(v, w), 12), o) for o, (t, w) in stored.items()
                  if abs(t - at) <= window]
        c, o = max(s for s in scored if s[0] >= 0.05)
        expected[n] = (o, f"story-{o}", c)
    got = {r["new_id"]: (r["old_id"], r["story_id"], r["cosine"]) for r in apart}
    assert {n: g[:2] for n, g in got.items()} == {n: e[:2] for n, e in expected.items()}
    assert all(abs(got[n][2] - expected[n][2]) < 1e-9 for n in new)
