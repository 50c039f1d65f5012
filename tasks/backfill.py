"""Topics over history: try a query on the warehouse without saving anything, or store a
topic's matches over every stored article (without alerting, unless asked)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from newswatch.config import Config, TopicSpec
from tasks.alerts import deliver_alerts, record_alerts
from tasks.match import models_for, percolate
from tasks.relevance import Model
from tasks.topics import parse_query
from warehouse import db


@dataclass
class TryOut:
    searched: int = 0
    matched: int = 0
    per_day: Counter[str] = field(default_factory=Counter)
    relevant: int = 0  # matches the topic's model accepts (all of them without a model)
    # (score, row, snippet, probability or None), best first
    top: list[tuple[float, dict[str, Any], str, float | None]] = field(default_factory=list)


def try_query(cfg: Config, query: str, aliases: Mapping[str, Sequence[str]] | None = None,
              min_score: float = 0.0, limit: int = 10, model: Model | None = None) -> TryOut:
    """Run a query (and a topic's model, if given) over every stored article; save nothing."""
    parse_query(query, aliases)  # a bad query fails here, before reading anything
    topic = TopicSpec(name="try", query=query, min_score=min_score, aliases=dict(aliases or {}))
    out = TryOut()
    rows: dict[str, dict[str, Any]] = {}

    def counted(it):  # type: ignore[no-untyped-def]
        for row in it:
            out.searched += 1
            rows[row["article_id"]] = row
            yield row

    for m in percolate([topic], counted(db.iter_articles(cfg.warehouse_path,
                                                         cfg.warehouse.lock_wait_s)),
                        {"try": model} if model else None):
        row = rows[m.article_id]
        out.matched += 1
        out.relevant += m.relevant
        day = row["published_at"].date().isoformat() if row["published_at"] else "undated"
        out.per_day[day] += 1
        out.top.append((m.score, row, m.snippet, m.probability))
    out.top = sorted(out.top, key=lambda t: (-(t[3] or 0.0), -t[0], t[1]["article_id"]))[:limit]
    return out


def backfill(cfg: Config, topic: TopicSpec, alert: bool = False) -> tuple[int, int]:
    """Store the topic's matches over history; return (matches stored now, alerts created)."""
    matches = list(percolate([topic], db.iter_articles(cfg.warehouse_path,
                                                       cfg.warehouse.lock_wait_s),
                             models_for(cfg, [topic])))
    with db.writer_lock(cfg.warehouse_path):
        stored, alerted = record_alerts(cfg, f"backfill-{uuid.uuid4().hex[:5]}", matches, alert)
        if alert:
            deliver_alerts(cfg)
    return stored, len(alerted)
