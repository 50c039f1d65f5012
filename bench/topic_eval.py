"""Cross-validated quality of each topic on real articles labelled by reading.

    NEWSWATCH_CORPUS=../shared/corpus python bench/topic_eval.py [--topic NAME] [--repeats 5]

For the default topic and the two example topics of seeds/topics.toml (switched on here), the
topic as it runs — its recall query AND its relevance model at the threshold for its target
precision — under repeated, grouped 5-fold cross-validation with the threshold chosen inside
each training part (nested), beside the query alone. Texts come from the shared corpus; the
labels from seeds/labels/. "either" examples (a contact mentioned in passing) count neither
right nor wrong."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.config import load_config  # noqa: E402
from tasks.labels import evaluate_topic, example_config  # noqa: E402

TOPICS = ("trump-putin-contacts", "supreme-court-rulings", "natural-disasters")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topic", action="append", help="only this topic (repeatable)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--errors", type=int, default=8, help="worst errors listed per kind")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(example_config(ROOT / "newswatch.toml", Path(tmp)))
        rows = []
        for name in args.topic or TOPICS:
            t0 = time.monotonic()
            e = evaluate_topic(cfg, name, args.repeats)
            took = time.monotonic() - t0
            m, q = e["model"], e["query"]
            print(f"\n{name}: {e['examples']} labelled articles ({e['yes']} relevant, "
                  f"{e['no']} not, {e['either']} either); the query selects "
                  f"{e['candidates']}; {e['repeats']}×{e['folds']}-fold grouped CV, "
                  f"{took:.0f} s")
            print(f"  query + model  precision {m['precision']:.3f}  recall {m['recall']:.3f}"
                  f"  F1 {m['f1']:.3f}   (mean per repeat: tp {m['tp']:.1f} fp {m['fp']:.1f}"
                  f" fn {m['fn']:.1f})")
            print(f"  query only     precision {q['precision']:.3f}  recall {q['recall']:.3f}"
                  f"  F1 {q['f1']:.3f}   (tp {q['tp']} fp {q['fp']} fn {q['fn']})")
            for _key, title, p, *sel in e["missed"][:args.errors]:
                why = "" if not sel or sel[0] else " (the query missed it)"
                print(f"  missed  p={p:.2f} {title[:90]}{why}")
            for _key, title, p in e["false"][:args.errors]:
                print(f"  false   p={p:.2f} {title[:90]}")
            rows.append((name, m, q))
        print("\n| topic | query+model P | R | F1 | query only P | R | F1 |")
        print("|---|---|---|---|---|---|---|")
        for name, m, q in rows:
            print(f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                  f"{q['precision']:.3f} | {q['recall']:.3f} | {q['f1']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
