"""A topic's labelled examples and its fitted relevance model, kept beside the topics file
(`[sources] labels` and `models`, by default seeds/labels and seeds/models):

    labels/<topic>.jsonl   one example a line: id, source, url, title, label, by, at, why
    models/<topic>.json    the fitted model (tasks/relevance.py), data not code

An example's text is never stored here (it belongs to its publisher): training reads it from
the warehouse (`source: "warehouse"`, the user's own labels) or from the shared corpus
(`source: "corpus:<file>"`, the examples newswatch ships; NEWSWATCH_CORPUS names the folder).
Labels are appended, never rewritten, and need no warehouse lock, so a label given while an
ingest runs lands. The last line for an article wins, so a changed mind is one more line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from newswatch.config import Config, TopicSpec
from tasks import relevance
from tasks.relevance import Example, Model, TrainingError
from tasks.topics import Document, parse_query, tokens
from warehouse import db

CORPUS_ENV = "NEWSWATCH_CORPUS"
LABELS = ("yes", "no", "either")
ANSWERS = {"yes": "yes", "y": "yes", "relevant": "yes", "no": "no", "n": "no",
           "irrelevant": "no", "either": "either"}
COPY_WORDS = 30  # articles opening with the same 30 words are copies of one report


class LabelError(ValueError):
    """A label that cannot be given; the message names what is wrong and the fix."""


@dataclass(frozen=True)
class LabelRecord:
    id: str
    source: str  # "warehouse" or "corpus:<file name>"
    url: str
    title: str
    label: str  # yes, no or either
    by: str
    at: str
    why: str = ""

    def line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def topic_of(cfg: Config, name: str) -> TopicSpec:
    topic = cfg.topic(name)
    if topic is None:
        raise LabelError(f"no topic named {name!r} in {cfg.root / cfg.sources.topics} "
                         f"(topics: {cfg.topic_names()}).")
    return topic


def labels_path(cfg: Config, topic: str) -> Path:
    return (cfg.root / cfg.sources.labels / f"{topic}.jsonl").resolve()


def model_path(cfg: Config, topic: str) -> Path:
    return (cfg.root / cfg.sources.models / f"{topic}.json").resolve()


def read_labels(path: Path) -> list[LabelRecord]:
    """The examples of a labels file, the last line for an id winning; a broken line is an
    error naming the file and line."""
    if not path.exists():
        return []
    found: dict[str, LabelRecord] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = LabelRecord(**json.loads(line))
        except (json.JSONDecodeError, TypeError) as e:
            raise LabelError(f"{path}:{n}: not a label line ({e}); each line is a JSON object "
                             f"with id, source, url, title, label, by, at.") from None
        if rec.label not in LABELS:
            raise LabelError(f"{path}:{n}: label {rec.label!r} is not one of "
                             f"{', '.join(LABELS)}.")
        found.pop(rec.id, None)
        found[rec.id] = rec
    return list(found.values())


def examples_digest(records: Sequence[LabelRecord]) -> str:
    return relevance.digest(sorted(f"{r.source}\t{r.id}\t{r.label}" for r in records))


def add_label(cfg: Config, topic: str, article_id: str, label: bool | str, who: str,
              why: str = "") -> LabelRecord:
    """Append one example for `topic` from a stored article (its id, or the id an alert
    shows). Needs no writer lock; reads the article on a read-only connection."""
    topic_of(cfg, topic)
    answer = ("yes" if label else "no") if isinstance(label, bool) else ANSWERS.get(label)
    if answer is None:
        raise LabelError(f"answer {label!r} is not yes or no.")
    if not cfg.warehouse_path.exists():
        raise LabelError(f"no warehouse at {cfg.warehouse_path} yet; run `newswatch run` first.")
    rows = db.article_for_label(cfg.warehouse_path, article_id, cfg.warehouse.lock_wait_s)
    if not rows:
        raise LabelError(f"no article {article_id!r} in {cfg.warehouse_path}; the ids are in "
                         f"the articles table and in each alert.")
    row = rows[0]
    rec = LabelRecord(id=row["article_id"], source="warehouse", url=row["canonical_url"] or "",
                      title=row["title"] or "", label=answer, by=who,
                      at=datetime.now(UTC).isoformat(timespec="seconds"), why=why)
    path = labels_path(cfg, topic)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:  # one append: a concurrent reader sees whole lines
        f.write(rec.line() + "\n")
    return rec


@lru_cache(maxsize=8)
def _corpus_file(path: Path) -> dict[str, dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return {(r := json.loads(line))["id"]: r for line in f if line.strip()}


def _copy_key(title: str, text: str) -> str:
    return " ".join(tokens(text)[:COPY_WORDS]) or " ".join(tokens(title))


def gather(cfg: Config, records: Sequence[LabelRecord]) -> tuple[list[Example], list[str]]:
    """The examples with their texts, and a line for each kind of example whose text could
    not be read (so training can say what it left out)."""
    corpus = os.environ.get(CORPUS_ENV)
    by_source: dict[str, list[LabelRecord]] = {}
    for r in records:
        by_source.setdefault(r.source, []).append(r)
    out: list[Example] = []
    missing: list[str] = []
    for source, recs in sorted(by_source.items()):
        texts: dict[str, dict[str, Any]] = {}
        if source == "warehouse":
            if cfg.warehouse_path.exists():
                rows = db.articles_for_training(cfg.warehouse_path, [r.id for r in recs],
                                                cfg.warehouse.lock_wait_s)
                texts = {r["article_id"]: r for r in rows}
        elif source.startswith("corpus:"):
            name = source.removeprefix("corpus:")
            file = Path(corpus or "").joinpath("topics", name)
            if corpus and file.exists():
                texts = _corpus_file(file)
            else:
                missing.append(f"{len(recs)} example(s) read their text from the shared corpus "
                               f"file topics/{name}: set {CORPUS_ENV} to the corpus folder")
                continue
        else:
            missing.append(f"{len(recs)} example(s) have an unknown source {source!r}")
            continue
        lost = 0
        for r in recs:
            t = texts.get(r.id)
            if t is None:
                lost += 1
                continue
            doc = Document(t.get("title") or "", t.get("text") or "", t.get("outlet") or "",
                           t.get("url") or t.get("canonical_url") or "",
                           t.get("lang") or t.get("language") or "")
            group = t.get("story_id") or _copy_key(doc.title, doc.text)
            out.append(Example(doc, r.label, str(group), r.id))
        if lost:
            missing.append(f"{lost} {source} example(s) are no longer stored there")
    return out, missing


def train_topic(cfg: Config, name: str) -> tuple[Model, list[str]]:
    """Fit a topic's model from its labels and store it beside the topic. Returns the model
    and what was left out."""
    topic = topic_of(cfg, name)
    records = read_labels(labels_path(cfg, name))
    if not records:
        raise LabelError(f"topic {name!r} has no labelled examples yet "
                         f"({labels_path(cfg, name)}); add some with "
                         f"`newswatch topics label {name} ARTICLE yes|no`.")
    examples, missing = gather(cfg, records)
    if missing and len(examples) < len(records):
        # A model from a part of the examples would silently forget the rest.
        raise LabelError(f"cannot train {name!r}: " + "; ".join(missing) + ".")
    node = parse_query(topic.query, topic.aliases)
    try:
        model = relevance.train(name, topic.query, relevance.concepts(node), examples,
                                topic.target_precision, examples_digest(records),
                                datetime.now(UTC).isoformat(timespec="seconds"))
    except TrainingError as e:
        raise LabelError(f"cannot train {name!r}: {e}") from None
    model.save(model_path(cfg, name))
    _load.cache_clear()
    return model, missing


def evaluate_topic(cfg: Config, name: str, repeats: int = relevance.REPEATS
                   ) -> dict[str, Any]:
    """Cross-validated figures of the topic as it runs: query AND model, with the model's
    threshold chosen inside each training part (nested), beside query-only figures."""
    topic = topic_of(cfg, name)
    records = read_labels(labels_path(cfg, name))
    examples, missing = gather(cfg, records)
    if missing and len(examples) < len(records):
        raise LabelError(f"cannot evaluate {name!r}: " + "; ".join(missing) + ".")
    node = parse_query(topic.query, topic.aliases)
    try:
        return relevance.evaluate(name, topic.query, node, examples, topic.target_precision,
                                  repeats)
    except TrainingError as e:
        raise LabelError(f"cannot evaluate {name!r}: {e}") from None


@lru_cache(maxsize=256)
def _load(path: Path, mtime: float) -> Model:
    return Model.load(path)


def model_for(cfg: Config, topic: TopicSpec) -> Model | None:
    """The topic's stored model, or None when it has none (query only). A model fitted for
    another query is still used (its words are the same kind of evidence) but logged stale by
    the caller; a file that cannot be read is an error naming it."""
    path = model_path(cfg, topic.name)
    if not path.exists():
        return None
    try:
        return _load(path, path.stat().st_mtime)
    except (json.JSONDecodeError, TypeError, KeyError) as e:
        raise LabelError(f"{path}: not a newswatch model ({e}); run `newswatch topics train "
                         f"{topic.name}` to rebuild it.") from None


def same_query(topic: TopicSpec, model: Model) -> bool:
    """The model was fitted for the topic's query as it stands (its features are the query's
    concepts, so a model of another query cannot be applied)."""
    return " ".join(model.query.split()) == " ".join(topic.query.split())


def is_stale(cfg: Config, topic: TopicSpec, model: Model) -> bool:
    """Examples or query changed since the model was fitted."""
    records = read_labels(labels_path(cfg, topic.name))
    return model.examples_digest != examples_digest(records) or not same_query(topic, model)


def model_summary(cfg: Config, topic: str) -> dict[str, Any] | None:
    """What a page or a list shows of a topic's model: None without one."""
    spec = topic_of(cfg, topic)
    model = model_for(cfg, spec)
    if model is None:
        return None
    return {"precision": model.cv.get("precision"), "recall": model.cv.get("recall"),
            "f1": model.cv.get("f1"), "positives": model.positives,
            "negatives": model.negatives, "trained_at": model.trained_at,
            "threshold": model.threshold, "stale": is_stale(cfg, spec, model)}


EXAMPLES_MARK = "# --- Example topics"


def with_example_topics(topics_text: str) -> str:
    """The topics file with its commented-out example topics switched on (for tests and
    bench/topic_eval.py): every "# "-prefixed line after the examples mark, uncommented."""
    head, mark, rest = topics_text.partition(EXAMPLES_MARK)
    if not mark:
        return topics_text
    lines = rest.split("---\n", 1)[1].splitlines()  # the mark's comment ends with "---"
    body = [ln[2:] if ln.startswith("# ") else "" if ln == "#" else ln for ln in lines]
    return head + "\n".join(body) + "\n"


def example_config(cfg_path: Path, out_dir: Path) -> Path:
    """A copy of a config whose topics file has the example topics on, labels and models
    still read from the original folders. Returns the new config's path."""
    import tomllib

    from newswatch.config import load_config

    cfg = load_config(cfg_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    topics = out_dir / "topics.toml"
    topics.write_text(with_example_topics((cfg.root / cfg.sources.topics).read_text(
        encoding="utf-8")), encoding="utf-8")
    data = tomllib.loads(cfg.path.read_text(encoding="utf-8"))
    src = data.setdefault("sources", {})
    src["feeds"] = str((cfg.root / cfg.sources.feeds).resolve())
    src["topics"] = str(topics)
    src["labels"] = str((cfg.root / cfg.sources.labels).resolve())
    src["models"] = str((cfg.root / cfg.sources.models).resolve())
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    out = out_dir / "newswatch.toml"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
