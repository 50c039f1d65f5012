"""Near-duplicate detection on a set built from real text.

    python bench/near_dup_eval.py [--sources 120]

Sources: the seed article and BASIL's real articles. For each source, four copies as
syndication makes them — trimmed to its first half, padded with a paragraph from another
story, wrapped in a photo caption and agency boilerplate, lightly edited — must be found as
copies of it. Look-alikes must not: the other two outlets' own reports of the same event
(same news, their own words), and a different story that opens with the source's first
paragraph. Detection is the pipeline's: an LSH bucket in common, then shingle containment at
the configured threshold. Prints precision and recall over the pairs."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newswatch.config import load_config  # noqa: E402
from tasks.near_dup import containment, fingerprint  # noqa: E402

SEED = ROOT.parent / "shared" / "seed" / "000_b6bb972f326920af.txt"


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def variants(paras: list[str], other: list[str], rng: random.Random) -> dict[str, str]:
    half = max(3, len(paras) // 2)
    words = "\n".join(paras).split(" ")
    edited = [("says" if w == "said" else str(int(w) + 1) if w.isdigit() else w)
              for w in words]
    for i in rng.sample(range(len(edited)), k=max(1, len(edited) // 40)):
        edited[i] = edited[i].upper()  # case changes are not edits; drop a word instead
        if rng.random() < 0.5:
            edited[i] = ""
    return {
        "trim": "\n".join(paras[:half]),
        "extra-paragraph": "\n".join([*paras, other[-1]]),
        "caption-boilerplate": "\n".join([
            "A man walks past a screen showing the news in a city square. — Reuters",
            *paras, "Reporting by staff; editing by the desk.",
            "Copyright 2025. All rights reserved. Sign up for our morning newsletter."]),
        "light-edit": " ".join(w for w in edited if w),
    }


def build(n_sources: int, seed: int = 11) -> tuple[list, list]:
    root = Path(os.environ.get("NEWSWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    rows = [json.loads(line) for line in
            (root / "events" / "basil" / "basil_articles.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    by_event = defaultdict(list)
    for r in rows:
        by_event[r["triplet_id"]].append(r)
    sources = rng.sample(rows, n_sources)
    texts = []
    if SEED.exists():
        texts.append(("seed", paragraphs(SEED.read_text().split("\n\n", 1)[1]), []))
    for r in sources:
        mates = [m for m in by_event[r["triplet_id"]] if m["uuid"] != r["uuid"]]
        texts.append((r["uuid"], paragraphs(r["text"]), [paragraphs(m["text"]) for m in mates]))
    positives, negatives = [], []
    for i, (_name, paras, mates) in enumerate(texts):
        other = texts[(i + 1) % len(texts)][1]
        for kind, text in variants(paras, other, rng).items():
            positives.append((kind, "\n".join(paras), text))
        for m in mates:
            negatives.append(("same-event-report", "\n".join(paras), "\n".join(m)))
        negatives.append(("shared-opening", "\n".join(paras), "\n".join([paras[0], *other])))
    return positives, negatives


def detect(a: str, b: str, cfg) -> bool:  # type: ignore[no-untyped-def]
    s = cfg.stories
    fa, fb = fingerprint(a, s.minhash_perm, s.lsh_bands), fingerprint(b, s.minhash_perm,
                                                                     s.lsh_bands)
    if not set(fa.buckets) & set(fb.buckets):
        return False
    return containment(fa.shingles, fb.shingles) >= s.near_duplicate


def evaluate(n_sources: int = 120) -> dict:
    cfg = load_config(ROOT / "newswatch.toml")
    positives, negatives = build(n_sources)
    missed = [(k, b[:80]) for k, a, b in positives if not detect(a, b, cfg)]
    false = [(k, b[:80]) for k, a, b in negatives if detect(a, b, cfg)]
    tp = len(positives) - len(missed)
    return {"positives": len(positives), "negatives": len(negatives), "tp": tp,
            "missed": missed, "false": false,
            "precision": tp / (tp + len(false)) if tp else 0.0,
            "recall": tp / len(positives)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=120)
    args = ap.parse_args()
    e = evaluate(args.sources)
    print(f"{e['positives']} copy pairs, {e['negatives']} look-alike pairs")
    print(f"precision {e['precision']:.4f}  recall {e['recall']:.4f}")
    kinds = defaultdict(int)
    for k, _ in e["missed"]:
        kinds[k] += 1
    print("missed by kind:", dict(kinds) or "none")
    print("false positives:", [k for k, _ in e["false"]] or "none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
