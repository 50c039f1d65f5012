"""Stage 9: match the run's new articles against every enabled topic (percolation: the topics
are stored queries, the articles flow past them). Each article is tokenised once for all
topics; each query is compiled once per process."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from newswatch.config import Config, TopicSpec
from tasks import stage
from tasks.models import Match
from tasks.topics import Document, evaluate, parse_query
from warehouse import db


def document(row: dict[str, Any]) -> Document:
    return Document(row["title"] or "", row["text"], row.get("outlet") or "",
                    row.get("canonical_url") or "", row.get("language") or "")


def percolate(topics: Iterable[TopicSpec], rows: Iterable[dict[str, Any]]) -> Iterator[Match]:
    compiled = [(t, parse_query(t.query, t.aliases)) for t in topics]
    for row in rows:
        doc = document(row)
        for t, node in compiled:
            v = evaluate(node, doc)
            if v.matched and v.score >= t.min_score:
                yield Match(t.name, row["article_id"], v.score, v.terms, v.snippet)


def match_topics(cfg: Config, article_ids: list[str]) -> list[Match]:
    topics = [t for t in cfg.topics if t.enabled]
    return list(percolate(topics, db.articles_for_matching(cfg.warehouse_path, article_ids)))


@stage("match-topics")
def match_topics_task(cfg: Config, article_ids: list[str]) -> list[Match]:
    return match_topics(cfg, article_ids)
