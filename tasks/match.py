"""Stage 9: match the run's new articles against every enabled topic (percolation: the topics
are stored queries, the articles flow past them). Each query is compiled once per process. An
article's distinct words are looked at first (tasks/topics.py Glance); only when a topic's
query may match them is the article tokenised in full, once for all topics. A topic with a
relevance model (labelled examples, tasks/labels.py) then asks its model whether the topic is
the article's subject: every query match is stored with the model's probability, and only
those at or above the model's threshold alert."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from newswatch.config import Config, TopicSpec
from tasks import stage
from tasks.labels import (
    LabelError,
    is_stale,
    labels_path,
    model_for,
    same_query,
    train_topic,
)
from tasks.models import Match
from tasks.relevance import Model, concepts
from tasks.topics import Document, Glance, evaluate, parse_query
from warehouse import db

log = logging.getLogger("newswatch.match")


def document(row: dict[str, Any]) -> Document:
    return Document(row["title"] or "", row["text"], row.get("outlet") or "",
                    row.get("canonical_url") or "", row.get("language") or "")


def percolate(topics: Iterable[TopicSpec], rows: Iterable[dict[str, Any]],
              models: Mapping[str, Model] | None = None) -> Iterator[Match]:
    models = models or {}
    compiled = []
    for t in topics:
        node = parse_query(t.query, t.aliases)
        compiled.append((t, node, models.get(t.name), concepts(node)))
    for row in rows:
        glance = Glance.of(row["title"] or "", row["text"], row.get("language") or "")
        doc = None
        for t, node, model, parts in compiled:
            if not node.may_match(glance):
                continue
            doc = doc or document(row)
            v = evaluate(node, doc)
            if not v.matched or v.score < t.min_score:
                continue
            if model is None:
                yield Match(t.name, row["article_id"], v.score, v.terms, v.snippet)
                continue
            p = round(model.probability(parts, doc), 4)
            yield Match(t.name, row["article_id"], v.score, v.terms, v.snippet, p,
                        p >= model.threshold)


def models_for(cfg: Config, topics: Iterable[TopicSpec], retrain: bool = True
               ) -> dict[str, Model]:
    """Each topic's model. One whose examples or query changed since it was fitted is fitted
    again (seconds) when its examples' texts can be read. Otherwise a model of the same query
    is used as stored (its examples changed: it is still the best judge there is), and one of
    another query is not used (its features are that query's); the reason is logged, so a
    missing corpus never stops alerts."""
    out: dict[str, Model] = {}
    for t in topics:
        model = model_for(cfg, t)
        has_labels = labels_path(cfg, t.name).exists()
        if retrain and has_labels and (model is None or is_stale(cfg, t, model)):
            try:
                model, _ = train_topic(cfg, t.name)
                log.info("topic %s: relevance model fitted again on its changed examples",
                         t.name)
            except LabelError as e:
                usable = model is not None and same_query(t, model)
                log.warning("topic %s: %s; %s", t.name, e,
                            "using the stored model" if usable else "matching by query only")
        if model is not None and same_query(t, model):
            out[t.name] = model
    return out


def match_topics(cfg: Config, article_ids: list[str]) -> list[Match]:
    # The topics schema follows the topics file: a view per topic, none for a removed one.
    db.sync_topic_views(cfg.warehouse_path, [t.name for t in cfg.topics])
    topics = [t for t in cfg.topics if t.enabled]
    models = models_for(cfg, topics)
    return list(percolate(topics, db.articles_for_matching(cfg.warehouse_path, article_ids),
                          models))


@stage("match-topics")
def match_topics_task(cfg: Config, article_ids: list[str]) -> list[Match]:
    return match_topics(cfg, article_ids)
