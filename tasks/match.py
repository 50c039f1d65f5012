"""Stage 9: match the run's new articles against every enabled topic (percolation: the topics
are the stored queries, the articles flow past them)."""

from __future__ import annotations

from newswatch.config import Config
from tasks import stage
from tasks.models import Match
from tasks.topics import Document, evaluate
from warehouse import db


def match_topics(cfg: Config, article_ids: list[str]) -> list[Match]:
    topics = [t for t in cfg.topics if t.enabled]
    matches = []
    for row in db.articles_for_matching(cfg.warehouse_path, article_ids):
        doc = Document(row["title"] or "", row["text"])
        for t in topics:
            v = evaluate(t.query, doc)
            if v.matched:
                matches.append(Match(t.name, row["article_id"], v.score, v.terms))
    return matches


@stage("match-topics")
def match_topics_task(cfg: Config, article_ids: list[str]) -> list[Match]:
    return match_topics(cfg, article_ids)
