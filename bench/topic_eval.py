"""Precision and recall of a topic on its labelled set.

    python bench/topic_eval.py [--topic trump-putin-contacts] [--set tests/labelled/...toml]

Prints the counts, precision, recall and F1, and every article the topic gets wrong."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.config import load_topics  # noqa: E402
from tasks.match import percolate  # noqa: E402


def evaluate(topic_name: str, labelled: Path) -> dict:
    topic = next(t for t in load_topics(ROOT / "seeds" / "topics.toml") if t.name == topic_name)
    items = tomllib.loads(labelled.read_text(encoding="utf-8"))["article"]
    rows = [{"article_id": str(i), "title": a["title"], "text": a["text"]}
            for i, a in enumerate(items)]
    hit = {m.article_id for m in percolate([topic], rows)}
    tp = [a for i, a in enumerate(items) if a["label"] and str(i) in hit]
    fp = [a for i, a in enumerate(items) if not a["label"] and str(i) in hit]
    fn = [a for i, a in enumerate(items) if a["label"] and str(i) not in hit]
    p = len(tp) / (len(tp) + len(fp)) if tp or fp else 0.0
    r = len(tp) / (len(tp) + len(fn)) if tp or fn else 0.0
    return {"positives": sum(a["label"] for a in items),
            "negatives": sum(not a["label"] for a in items),
            "tp": len(tp), "fp": fp, "fn": fn, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topic", default="trump-putin-contacts")
    ap.add_argument("--set", type=Path,
                    default=ROOT / "tests" / "labelled" / "trump_putin_contacts.toml")
    args = ap.parse_args()
    e = evaluate(args.topic, args.set)
    print(f"{args.topic}: {e['positives']} positive, {e['negatives']} negative articles")
    print(f"tp {e['tp']}  fp {len(e['fp'])}  fn {len(e['fn'])}  precision {e['precision']:.3f}  "
          f"recall {e['recall']:.3f}  F1 {e['f1']:.3f}")
    for a in e["fp"]:
        print(f"  false positive ({a['kind']}): {a['title']}")
    for a in e["fn"]:
        print(f"  missed ({a['kind']}): {a['title']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
