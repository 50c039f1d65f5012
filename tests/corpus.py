"""Access to ../shared/corpus for conformance and quality checks. Tests read its path from
NEWSWATCH_CORPUS and skip, saying so, when it is not there; nothing of it is in the repo."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from tasks.topics import tokens

ENV = "NEWSWATCH_CORPUS"


def corpus_dir(*parts: str) -> Path:
    root = os.environ.get(ENV)
    if not root:
        pytest.skip(f"{ENV} is not set: the shared corpus (../shared/corpus) is missing")
    path = Path(root).joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is missing from the shared corpus named by {ENV}")
    return path


def topic_articles() -> list[dict]:
    """The corpus's 3,595 real topic articles: the labelled trump-putin set, then the general."""
    root = corpus_dir("topics")
    return [json.loads(line)
            for f in ("trump_putin_dev.jsonl", "general_dev.jsonl")
            for line in (root / f).read_text(encoding="utf-8").splitlines()]


def html_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    return re.sub(r"\s+", " ", doc.text_content()).strip()


def token_f1(got: str, expected: str) -> tuple[float, float, float]:
    """Bag-of-words precision, recall and F1, the usual measure for article extraction."""
    g, e = Counter(tokens(got)), Counter(tokens(expected))
    common = sum((g & e).values())
    if not g or not e or not common:
        return 0.0, 0.0, 0.0
    p, r = common / sum(g.values()), common / sum(e.values())
    return p, r, 2 * p * r / (p + r)
