"""Story clustering quality on BASIL: 300 real articles, 100 events each reported by Fox
News, the New York Times and HuffPost. Articles arrive in date order, one run per day, through
the same dedup, load and story stages as the pipeline; B-cubed precision, recall and F1 compare
the stories with the events.

    python bench/story_eval.py [--similarity 0.25] [--window-days 3] [--top-terms 40] [--sweep]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.config import load_config  # noqa: E402
from tasks.dedup import article_id, content_hash  # noqa: E402
from tasks.stories import assign_stories  # noqa: E402
from warehouse import db  # noqa: E402


def basil() -> list[dict]:
    root = Path(os.environ.get("NEWSWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    path = root / "events" / "basil" / "basil_articles.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def bcubed(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    by_pred, by_gold = defaultdict(set), defaultdict(set)
    for item, c in pred.items():
        by_pred[c].add(item)
    for item, c in gold.items():
        by_gold[c].add(item)
    p = r = 0.0
    for item in gold:
        same_pred, same_gold = by_pred[pred[item]], by_gold[gold[item]]
        both = len(same_pred & same_gold)
        p += both / len(same_pred)
        r += both / len(same_gold)
    p, r = p / len(gold), r / len(gold)
    return p, r, 2 * p * r / (p + r)


def run(similarity: float, window_days: int, top_terms: int) -> dict:
    rows = sorted(basil(), key=lambda r: (r["date"], r["uuid"]))
    with tempfile.TemporaryDirectory() as tmp:
        cfg_path = Path(tmp) / "newswatch.toml"
        cfg_path.write_text(
            f'[warehouse]\npath = "eval.duckdb"\n[sources]\nfeeds = "{ROOT}/seeds/feeds.toml"\n'
            f'topics = "{ROOT}/seeds/topics.toml"\n'
            f"[stories]\nsimilarity = {similarity}\nwindow_days = {window_days}\n"
            f"top_terms = {top_terms}\n",
            encoding="utf-8")
        cfg = load_config(cfg_path)
        db.migrate(cfg.warehouse_path)
        by_day: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            by_day[r["date"][:10]].append(r)
        story_of: dict[str, str] = {}
        for day in sorted(by_day):
            now = datetime.now(UTC)
            arts = []
            for r in by_day[day]:
                text = r["text"].replace("\n\n", "\n")
                arts.append({
                    "article_id": article_id(r["url"]), "url": r["url"],
                    "canonical_url": r["url"], "title": r["title"], "text": text,
                    "author": None, "published_at": datetime.fromisoformat(day).replace(
                        tzinfo=UTC),
                    "language": "en", "outlet": r["outlet"], "feed_url": "basil",
                    "content_hash": content_hash(text), "extraction_method": "trafilatura",
                    "first_seen_at": now, "run_id": day})
            db.load_articles(cfg.warehouse_path, arts, [], [], [])
            for p in assign_stories(cfg, [a["article_id"] for a in arts]):
                story_of[p.article_id] = p.story_id
        gold = {article_id(r["url"]): r["triplet_id"] for r in rows}
        p, r, f = bcubed(story_of, gold)
        return {"precision": p, "recall": r, "f1": f, "stories": len(set(story_of.values())),
                "days": len(by_day)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = load_config(ROOT / "newswatch.toml").stories
    ap.add_argument("--similarity", type=float, default=defaults.similarity)
    ap.add_argument("--window-days", type=int, default=defaults.window_days)
    ap.add_argument("--top-terms", type=int, default=defaults.top_terms)
    ap.add_argument("--sweep", action="store_true", help="try several similarity thresholds")
    args = ap.parse_args()
    for sim in ([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5] if args.sweep else [args.similarity]):
        e = run(sim, args.window_days, args.top_terms)
        print(f"similarity {sim:.2f} window {args.window_days} d top {args.top_terms} terms: "
              f"B-cubed precision "
              f"{e['precision']:.3f} recall {e['recall']:.3f} F1 {e['f1']:.3f} "
              f"({e['stories']} stories for 100 events, {e['days']} daily runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
