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
from dataclasses import dataclass
from datetime import datetime, timedelta

from newswatch.config import Config
from tasks import stage
from tasks.near_dup import containment, fingerprint, shingles
from tasks.topics import stem, tokens
from warehouse import db

TITLE_WEIGHT = 3  # a headline names the event in few words: count its terms three times
DOCS = "#docs"  # the term_df row that counts documents
CANDIDATE_FLOOR = 0.05  # cosines below this cannot decide anything; the join drops them early

# Function words and newsroom boilerplate: frequent everywhere, they say nothing of the event.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves said says say told according
reported report reports news reuters ap afp associated press mr mrs ms dr one two three new
year years week day days time monday tuesday wednesday thursday friday saturday sunday last
first people would could may might must
""".split())  # noqa: SIM905


def terms(title: str, text: str) -> Counter[str]:
    """Stemmed content words of an article, the title's counted TITLE_WEIGHT times."""
    counts: Counter[str] = Counter()
    for weight, part in ((TITLE_WEIGHT, title), (1, text)):
        for t in tokens(part):
            if len(t) > 2 and not t.isdigit() and t not in STOPWORDS:
                counts[stem(t)] += weight
    return counts


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


@dataclass(frozen=True)
class Placement:
    article_id: str
    story_id: str
    near_duplicate_of: str | None
    similarity: float  # containment for a copy, cosine for a report, 0 for a new story


def assign_stories(cfg: Config, article_ids: list[str],
                   touched: list[str] | tuple[str, ...] = ()) -> list[Placement]:
    """Place the new articles in stories and refresh the stories of `touched` articles
    (new sightings change their outlet counts)."""
    s = cfg.stories
    path = cfg.warehouse_path
    rows = db.articles_for_stories(path, article_ids)
    if not rows and not touched:
        return []
    fps = {r["article_id"]: fingerprint(r["text"], s.minhash_perm, s.lsh_bands) for r in rows}
    counts = {r["article_id"]: terms(r["title"] or "", r["text"]) for r in rows}
    df, docs = db.term_stats(path, sorted({t for c in counts.values() for t in c}))
    batch_df = Counter(t for c in counts.values() for t in c)
    df = {t: df.get(t, 0) + batch_df[t] for t in batch_df}
    docs += len(rows)
    vecs = {aid: vector(c, df, docs, s.top_terms) for aid, c in counts.items()}

    # What is stored: LSH neighbours (with their text, to confirm) and similar articles.
    bucket_rows = [{"band": b, "bucket": k, "article_id": aid}
                   for aid, fp in fps.items() for b, k in fp.buckets]
    lsh: dict[str, list[tuple[str, frozenset[int], str]]] = defaultdict(list)
    for c in db.lsh_candidates(path, bucket_rows):
        lsh[c["new_id"]].append((c["old_id"], shingles(c["text"]), c["story_id"]))
    anchors = {r["article_id"]: r["anchor"] for r in rows}
    term_rows = [{"article_id": aid, "term": t, "weight": w, "anchor": anchors[aid]}
                 for aid, v in vecs.items() for t, w in v.items()]
    similar: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    for c in db.similar_articles(path, term_rows, s.window_days, CANDIDATE_FLOOR):
        similar[c["new_id"]].append((c["old_id"], c["cosine"], c["story_id"]))

    # Within the batch, oldest first, through two inverted indexes (LSH bucket → earlier
    # articles, term → earlier articles and weights), so a batch of n costs ~n, not n².
    placed: list[Placement] = []
    done: list[tuple[str, frozenset[int], datetime]] = []  # (id, shingles, anchor)
    by_bucket: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_term: dict[str, list[tuple[int, float]]] = defaultdict(list)
    window = timedelta(days=s.window_days)
    for r in rows:  # oldest first
        aid, fp, vec, at = r["article_id"], fps[r["article_id"]], vecs[r["article_id"]], r["anchor"]
        near = {i for b in fp.buckets for i in by_bucket.get(b, ())}
        copies = list(lsh[aid]) + [(done[i][0], done[i][1], placed[i].story_id)
                                   for i in sorted(near)]
        best_copy = max(((containment(fp.shingles, sh), oid, sid) for oid, sh, sid in copies),
                        default=(0.0, "", ""))
        if best_copy[0] >= s.near_duplicate:
            placed.append(Placement(aid, best_copy[2], best_copy[1], round(best_copy[0], 3)))
        else:
            dots: dict[int, float] = defaultdict(float)
            for t, w in vec.items():
                for i, ow in by_term.get(t, ()):
                    dots[i] += w * ow
            reports = list(similar[aid]) + [
                (done[i][0], d, placed[i].story_id) for i, d in sorted(dots.items())
                if abs(at - done[i][2]) <= window]
            best = max(((sim, oid, sid) for oid, sim, sid in reports), default=(0.0, "", ""))
            if best[0] >= s.similarity:
                placed.append(Placement(aid, best[2], None, round(best[0], 3)))
            else:
                placed.append(Placement(aid, aid, None, 0.0))
        n = len(done)
        done.append((aid, fp.shingles, at))
        for b in fp.buckets:
            by_bucket[b].append(n)
        for t, w in vec.items():
            by_term[t].append((n, w))

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
def assign_stories_task(cfg: Config, article_ids: list[str],
                        touched: list[str]) -> list[Placement]:
    return assign_stories(cfg, article_ids, touched)

