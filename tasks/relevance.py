"""Learned relevance: the second stage of a topic. The query selects candidates (written for
recall); a linear model learned from the topic's labelled examples decides whether the topic
is the article's subject.

Features (all computed from the Document the query already tokenised and stemmed):
- tf-idf of the title, the lead and the whole text, each its own block (sublinear tf, smooth
  idf, unit length), so "summit" in a headline and "summit" in paragraph nine weigh apart;
- where and how often the query's concepts occur: the query's top-level AND parts (for
  `trump AND putin AND contact`: three concepts), each in the title, in the lead, the number
  and share of sentences holding it, and the same for every pair and for all of them in one
  sentence — "both names and a contact word in one sentence of the lead" is what a reader
  looks for, and it is the query's own vocabulary, so nothing here is tuned to one topic.

The model is scikit-learn's logistic regression, fitted deterministically (lbfgs, fixed
order), and stored as JSON — vocabularies, idf, weights and the threshold table — never as a
pickle, which would run code when loaded. Prediction is our own few lines over that JSON.

The threshold is chosen for the topic's target precision from out-of-fold probabilities of
repeated grouped cross-validation, so the stored precision/recall figures are ones the model
did not see while fitting.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tasks.topics import And, Document, InField, Node, Not, Or, Term

FORMAT = 1  # bumped when the stored model's layout changes; older files must be retrained
BLOCKS = ("title", "lead", "text")
# Terms seen in fewer training articles than this carry no reusable evidence (names of
# one-off people, typos) and only grow the stored model.
MIN_DF = {"title": 1, "lead": 2, "text": 2}
MAX_TERMS = {"title": 1000, "lead": 2000, "text": 4000}  # the most frequent; keeps files small
# Inverse L2 strength. Grouped CV on trump-putin (precision/recall at 0.5): C 0.3 → .90/.97,
# 1 → .90/.94, 3 → .89/.86: with ~50 positives, a strong penalty generalises best.
C = 0.3
# A "mentioned in passing" example is a negative for training (the topic wants subjects) at
# full weight: measured on trump-putin, weight 1.0 gave +0.03 precision at equal recall
# against leaving them out; evaluation still counts them neither right nor wrong.
EITHER_WEIGHT = 1.0
FOLDS, REPEATS = 5, 5  # 5-fold, repeated 5 times: stable figures with ~50 positives
SEED = 20250209  # the seed article's date: any fixed number makes training repeatable
# Scale of the query's concept features against the tf-idf blocks (a larger scale lowers
# their L2 penalty). Measured on trump-putin at C 0.3, precision/recall at 0.5: gain 2 →
# .85/.92, 1 → .87/.95, 0.5 → .90/.97, 0.25 → .90/.97: they help most as a light hint.
CONCEPT_GAIN = 0.25
# Shares of sentences are taken over at least this many: in a three-sentence brief one
# sentence naming everything is not the same evidence as a third of a long report.
MIN_SENTENCES = 10
# Likewise a block's tf-idf row is divided by at least the length of the training articles'
# shortest quarter, not scaled up to unit length: briefs otherwise get a report's weight.
NORM_FLOOR_QUANTILE = 0.25
MAX_CONCEPTS = 4  # pairs of up to 4 concepts: 6 pair features, more adds noise, not signal
MIN_PER_CLASS = 10  # fewer relevant or irrelevant examples than this cannot be cross-validated


class TrainingError(ValueError):
    """Examples that cannot make a model; the message says what is missing."""


# ---------------------------------------------------------------- features


def concepts(node: Node) -> list[Node]:
    """The query's top-level AND parts that look for words (NOT parts and metadata tests
    carry no evidence of a subject); a query that is not an AND is one concept."""
    parts = node.parts if isinstance(node, And) else [node]
    found = [p for p in parts if not isinstance(p, Not) and _has_words(p)]
    return (found or [node])[:MAX_CONCEPTS]


def _has_words(node: Node) -> bool:
    if isinstance(node, Term):
        return True
    if isinstance(node, And | Or):
        return any(_has_words(p) for p in node.parts)
    if isinstance(node, InField):
        return _has_words(node.part)
    return hasattr(node, "words")  # a Phrase


class _Sentence(Document):
    """One sentence of a document, as a document of its own: a concept's test on it reuses
    the parent's folded words instead of tokenising again."""

    def __init__(self, words: dict[int, str], stems: dict[str, str], lang: str) -> None:
        self.title, self.text, self.outlet, self.url, self.lang = "", "", "", "", lang
        self.stem_lang = lang
        self.sentences = []
        self.raw = {"title": {}, "lead": {}, "text": words}
        positions: dict[str, list[int]] = {}
        for p, t in words.items():
            positions.setdefault(stems[t], []).append(p)
        self.index = {"title": {}, "lead": {}, "text": positions}


def sentence_views(doc: Document) -> list[Document]:
    """The document's sentences as documents; made once per document for all its topics."""
    cached = doc.__dict__.get("_sentence_views")
    if cached is not None:
        return cached
    from tasks.topics import SENTENCE_GAP

    by_sentence: dict[int, dict[int, str]] = {}
    for p, t in doc.raw["text"].items():
        by_sentence.setdefault(p // SENTENCE_GAP, {})[p] = t
    stems = {t: s for s, forms in doc.surfaces["text"].items() for t in forms}
    views: list[Document] = [_Sentence(by_sentence[k], stems, doc.stem_lang)
                             for k in sorted(by_sentence)]
    doc.__dict__["_sentence_views"] = views
    return views


def sentence_numbers(doc: Document) -> list[int]:
    """The numbers of the document's sentences that hold words, in order (cached)."""
    cached = doc.__dict__.get("_sentence_numbers")
    if cached is None:
        from tasks.topics import SENTENCE_GAP

        cached = doc.__dict__["_sentence_numbers"] = sorted(
            {p // SENTENCE_GAP for p in doc.raw["text"]})
    return cached


def sentences_holding(node: Node, doc: Document) -> set[int]:
    """The numbers of the sentences in which `node` matches on its own, from the positions
    the document already indexed; only a phrase is checked sentence by sentence, and only in
    the sentences that hold all its words."""
    from tasks.topics import SENTENCE_GAP, Meta, Phrase

    if isinstance(node, Term):
        return {p // SENTENCE_GAP for p, _ in node.positions(doc, "text")}
    if isinstance(node, Or):
        return set().union(*(sentences_holding(p, doc) for p in node.parts))
    if isinstance(node, And):
        found = sentences_holding(node.parts[0], doc)
        for p in node.parts[1:]:
            if not found:
                break
            found &= sentences_holding(p, doc)
        return found
    if isinstance(node, Not):
        return set(sentence_numbers(doc)) - sentences_holding(node.part, doc)
    if isinstance(node, InField):  # title: and lead: are not sentences of the text
        return sentences_holding(node.part, doc) if "text" in node.fields else set()
    if isinstance(node, Phrase):
        candidates = set(sentence_numbers(doc))
        for w in node.words:
            candidates &= sentences_holding(w, doc)
        if not candidates:
            return set()
        numbers = sentence_numbers(doc)
        views = sentence_views(doc)
        at = {k: views[i] for i, k in enumerate(numbers)}
        return {k for k in candidates if node.match(at[k], ("text",)) is not None}
    if isinstance(node, Meta):  # a sentence carries no outlet, domain or language
        return set()
    views = sentence_views(doc)  # a node kind added later: ask it sentence by sentence
    return {k for k, v in zip(sentence_numbers(doc), views, strict=True)
            if node.match(v, ("text",)) is not None}


def concept_features(parts: Sequence[Node], doc: Document) -> list[float]:
    """Where and how often the query's concepts occur, alone, in pairs and all together."""
    numbers = sentence_numbers(doc)
    order = {k: i for i, k in enumerate(numbers)}
    n = max(MIN_SENTENCES, len(numbers))
    in_title = [p.match(doc, ("title",)) is not None for p in parts]
    in_lead = [p.match(doc, ("lead",)) is not None for p in parts]
    in_sentence = [{order[k] for k in sentences_holding(p, doc)} for p in parts]
    groups = [(i,) for i in range(len(parts))]
    groups += [(i, j) for i in range(len(parts)) for j in range(i + 1, len(parts))]
    if len(parts) > 2:
        groups.append(tuple(range(len(parts))))
    out: list[float] = []
    for g in groups:
        hits = set.intersection(*(in_sentence[i] for i in g))
        count = len(hits)
        first = min(hits) if count else n
        out += [float(all(in_title[i] for i in g)), float(all(in_lead[i] for i in g)),
                float(any(h < 5 for h in hits)), math.log1p(count), count / n, 1.0 - first / n]
    return out


def block_terms(doc: Document) -> dict[str, list[str]]:
    """The stems of the title, the lead and the whole text (numbers dropped: dates and
    counts say nothing about a subject). Made once per document for all its topics."""
    cached = doc.__dict__.get("_block_terms")
    if cached is not None:
        return cached
    out = {}
    for name in BLOCKS:
        raw, stems = doc.raw[name], {t: s for s, forms in doc.surfaces[name].items()
                                     for t in forms}
        out[name] = [stems[t] for t in raw.values() if not t.isdigit()]
    doc.__dict__["_block_terms"] = out
    return out


def block_tfs(doc: Document) -> dict[str, list[tuple[str, float]]]:
    """Each block's distinct stems with their sublinear term frequency (cached)."""
    cached = doc.__dict__.get("_block_tfs")
    if cached is None:
        cached = doc.__dict__["_block_tfs"] = {
            b: [(t, 1.0 + math.log(c)) for t, c in Counter(terms).items()]
            for b, terms in block_terms(doc).items()}
    return cached


# ---------------------------------------------------------------- the model


@dataclass
class Model:
    topic: str
    query: str
    vocab: dict[str, dict[str, int]]  # block -> term -> column
    idf: dict[str, list[float]]
    weights: dict[str, list[float]]  # block -> weight per column
    norm_floor: dict[str, float]  # block -> the least length a row is divided by
    concept_weights: list[float]
    concept_mean: list[float]
    concept_scale: list[float]
    intercept: float
    threshold: float = 0.5
    target_precision: float = 0.9
    cv: dict[str, Any] = field(default_factory=dict)  # precision, recall, f1, table, …
    examples_digest: str = ""
    positives: int = 0
    negatives: int = 0
    trained_at: str = ""

    def probability(self, parts: Sequence[Node], doc: Document) -> float:
        z = self.intercept
        for name, tfs in block_tfs(doc).items():
            vocab, idf, w = self.vocab[name], self.idf[name], self.weights[name]
            dot = sq = 0.0
            for t, tf in tfs:
                j = vocab.get(t)
                if j is not None:
                    v = tf * idf[j]
                    dot += v * w[j]
                    sq += v * v
            z += dot / max(math.sqrt(sq), self.norm_floor[name], 1e-9)
        feats = concept_features(parts, doc)
        z += sum((f - m) / s * w for f, m, s, w in zip(
            feats, self.concept_mean, self.concept_scale, self.concept_weights, strict=True))
        return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0

    def to_json(self) -> str:
        d = {"format": FORMAT, **self.__dict__}
        d["vocab"] = {b: sorted(v, key=v.__getitem__) for b, v in self.vocab.items()}
        return json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Model:
        d = json.loads(text)
        if d.pop("format", None) != FORMAT:
            raise TrainingError("the model file was written by another version of newswatch; "
                                "run `newswatch topics train` again.")
        d["vocab"] = {b: {t: i for i, t in enumerate(terms)} for b, terms in d["vocab"].items()}
        return cls(**d)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a model

    @classmethod
    def load(cls, path: Path) -> Model:
        return cls.from_json(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Example:
    doc: Document
    label: str  # "yes", "no" or "either" (mentioned in passing: acceptable both ways)
    group: str  # examples that are copies of each other share a group: folds never split them
    key: str = ""  # the example's id, for reports


def _norms(docs_terms: list[list[str]], vocab: dict[str, int], idf: np.ndarray) -> np.ndarray:
    out = []
    for terms in docs_terms:
        counts = Counter(t for t in terms if t in vocab)
        out.append(math.sqrt(sum(((1.0 + math.log(c)) * idf[vocab[t]]) ** 2
                                 for t, c in counts.items())))
    return np.array(out)


def _tfidf(docs_terms: list[list[str]], vocab: dict[str, int], idf: np.ndarray,
           floor: float = 0.0) -> Any:
    """Unit-length sublinear tf-idf rows, except that a row shorter than `floor` is divided
    by the floor: a brief's few words are less evidence than a report's many."""
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, terms in enumerate(docs_terms):
        counts = Counter(t for t in terms if t in vocab)
        vec = {vocab[t]: (1.0 + math.log(c)) * idf[vocab[t]] for t, c in counts.items()}
        norm = max(math.sqrt(sum(v * v for v in vec.values())), floor, 1e-9)
        for j, v in sorted(vec.items()):
            rows.append(r)
            cols.append(j)
            vals.append(v / norm)
    return csr_matrix((vals, (rows, cols)), shape=(len(docs_terms), len(vocab)))


class _Features:
    """Every example's block terms and concept features, computed once for all the fits of a
    cross-validation."""

    def __init__(self, parts: Sequence[Node], examples: Sequence[Example]) -> None:
        self.terms = [block_terms(e.doc) for e in examples]
        self.concepts = np.array([concept_features(parts, e.doc) for e in examples])
        self.y = np.array([e.label == "yes" for e in examples], dtype=int)
        self.w = np.array([EITHER_WEIGHT if e.label == "either" else 1.0 for e in examples])


def _fit(topic: str, query: str, f: _Features, idx: np.ndarray) -> Model:
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression

    vocab: dict[str, dict[str, int]] = {}
    idf: dict[str, np.ndarray] = {}
    floor: dict[str, float] = {}
    blocks = []
    n = len(idx)
    for b in BLOCKS:
        df = Counter(t for i in idx for t in set(f.terms[i][b]))
        keep = sorted((t for t, c in df.items() if c >= MIN_DF[b]),
                      key=lambda t: (-df[t], t))[:MAX_TERMS[b]]
        vocab[b] = {t: j for j, t in enumerate(sorted(keep))}
        idf[b] = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in sorted(keep)])
        docs = [f.terms[i][b] for i in idx]
        floor[b] = float(np.quantile(_norms(docs, vocab[b], idf[b]), NORM_FLOOR_QUANTILE))
        blocks.append(_tfidf(docs, vocab[b], idf[b], floor[b]))
    cf = f.concepts[idx]
    mean, scale = cf.mean(axis=0), cf.std(axis=0)
    scale[scale == 0] = 1.0
    scale /= CONCEPT_GAIN
    blocks.append(csr_matrix((cf - mean) / scale))
    x = hstack(blocks).tocsr()
    clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
    clf.fit(x, f.y[idx], sample_weight=f.w[idx])
    coef = clf.coef_[0]
    weights, at = {}, 0
    for b in BLOCKS:
        weights[b] = [round(float(v), 8) for v in coef[at:at + len(vocab[b])]]
        at += len(vocab[b])
    return Model(topic=topic, query=query, vocab=vocab,
                 idf={b: [round(float(v), 8) for v in idf[b]] for b in BLOCKS},
                 weights=weights, norm_floor={b: round(v, 6) for b, v in floor.items()},
                 concept_weights=[round(float(v), 8) for v in coef[at:]],
                 concept_mean=[float(v) for v in mean], concept_scale=[float(v) for v in scale],
                 intercept=float(clf.intercept_[0]))


def _check(examples: Sequence[Example]) -> None:
    yes = sum(e.label == "yes" for e in examples)
    no = sum(e.label != "yes" for e in examples)
    for have, what in ((yes, "relevant"), (no, "not relevant")):
        if have < MIN_PER_CLASS:
            raise TrainingError(
                f"{have} {what} example(s); a model needs at least {MIN_PER_CLASS} — "
                f"label {MIN_PER_CLASS - have} more.")


def out_of_fold(topic: str, query: str, parts: Sequence[Node], examples: Sequence[Example],
                f: _Features | None = None, repeats: int = REPEATS) -> np.ndarray:
    """Probabilities of each example from models that did not see it or its copies:
    `repeats` rows of grouped, stratified 5-fold cross-validation."""
    from sklearn.model_selection import StratifiedGroupKFold

    f = f or _Features(parts, examples)
    groups = np.array([e.group for e in examples])
    folds = min(FOLDS, int(f.y.sum()), int(len(f.y) - f.y.sum()))
    out = np.zeros((repeats, len(examples)))
    for r in range(repeats):
        split = StratifiedGroupKFold(folds, shuffle=True, random_state=SEED + r)
        for train, test in split.split(f.concepts, f.y, groups):
            out[r, test] = _predict(_fit(topic, query, f, train), f, test)
    return out


def _predict(model: Model, f: _Features, idx: np.ndarray) -> np.ndarray:
    """Model.probability for many examples at once, from their cached features."""
    z = np.full(len(idx), model.intercept)
    for b in BLOCKS:
        idf = np.array(model.idf[b])
        z += (_tfidf([f.terms[i][b] for i in idx], model.vocab[b], idf, model.norm_floor[b])
              @ np.array(model.weights[b]))
    cf = (f.concepts[idx] - np.array(model.concept_mean)) / np.array(model.concept_scale)
    z += cf @ np.array(model.concept_weights)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def scores(prob: np.ndarray, labels: Sequence[str], threshold: float) -> dict[str, float]:
    """Precision, recall and F1 at a threshold; "either" examples count neither way."""
    yes = np.array([lab == "yes" for lab in labels])
    no = np.array([lab == "no" for lab in labels])
    hit = prob >= threshold
    tp, fp, fn = int((hit & yes).sum()), int((hit & no).sum()), int((~hit & yes).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0}


def mean_scores(oof: np.ndarray, labels: Sequence[str], threshold: float) -> dict[str, float]:
    runs = [scores(row, labels, threshold) for row in oof]
    return {k: float(np.mean([s[k] for s in runs])) for k in runs[0]}


def pick_threshold(oof: np.ndarray, labels: Sequence[str], target: float) -> float:
    """The lowest threshold whose mean out-of-fold precision reaches the target (the most
    recall for the precision asked); if none does, the one with the best F1."""
    grid = [round(t, 2) for t in np.arange(0.05, 0.96, 0.01)]
    table = [(t, mean_scores(oof, labels, t)) for t in grid]
    ok = [t for t, s in table if s["precision"] >= target]
    if ok:
        return ok[0]
    return max(table, key=lambda ts: (round(ts[1]["f1"], 6), ts[0]))[0]


def digest(lines: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def train(topic: str, query: str, parts: Sequence[Node], examples: Sequence[Example],
          target_precision: float, examples_digest: str = "", trained_at: str = "") -> Model:
    """Fit on every example; choose the threshold and report figures from cross-validation."""
    _check(examples)
    f = _Features(parts, examples)
    oof = out_of_fold(topic, query, parts, examples, f)
    labels = [e.label for e in examples]
    threshold = pick_threshold(oof, labels, target_precision)
    model = _fit(topic, query, f, np.arange(len(examples)))
    model.threshold = threshold
    model.target_precision = target_precision
    at = mean_scores(oof, labels, threshold)
    model.cv = {"folds": FOLDS, "repeats": REPEATS,
                **{k: round(v, 4) for k, v in at.items()},
                "table": [[t, round(s["precision"], 4), round(s["recall"], 4)]
                          for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
                          for s in [mean_scores(oof, labels, t)]]}
    model.examples_digest = examples_digest
    model.positives = int(f.y.sum())
    model.negatives = len(examples) - model.positives
    model.trained_at = trained_at
    return model


def evaluate(topic: str, query: str, node: Node, examples: Sequence[Example],
             target_precision: float, repeats: int = REPEATS) -> dict[str, Any]:
    """The topic as it runs — the query AND the model at its threshold — cross-validated:
    `repeats` × grouped 5-fold, each fold's threshold chosen by an inner cross-validation of
    its training part only (nested), so no figure has seen the articles it scores. Returns the
    mean figures, the query-only figures, a confusion table and the worst errors."""
    from sklearn.model_selection import StratifiedGroupKFold

    _check(examples)
    from tasks.topics import evaluate as run_query

    parts = concepts(node)
    f = _Features(parts, examples)
    labels = [e.label for e in examples]
    selected = np.array([run_query(node, e.doc).matched for e in examples])
    groups = np.array([e.group for e in examples])
    folds = min(FOLDS, int(f.y.sum()), int(len(f.y) - f.y.sum()))
    prob = np.zeros((repeats, len(examples)))
    decided = np.zeros((repeats, len(examples)), dtype=bool)
    for r in range(repeats):
        split = StratifiedGroupKFold(folds, shuffle=True, random_state=SEED + r)
        for train_idx, test in split.split(f.concepts, f.y, groups):
            sub = [examples[i] for i in train_idx]
            inner = out_of_fold(topic, query, parts, sub, _subset(f, train_idx), repeats=1)
            threshold = pick_threshold(inner, [labels[i] for i in train_idx], target_precision)
            p = _predict(_fit(topic, query, f, train_idx), f, test)
            prob[r, test] = p
            decided[r, test] = (p >= threshold) & selected[test]
    runs = [scores(row.astype(float), labels, 0.5) for row in decided]
    mean = {k: float(np.mean([s[k] for s in runs])) for k in runs[0]}
    query_only = scores(selected.astype(float), labels, 0.5)
    share = decided.mean(axis=0)  # how often each example was judged relevant
    yes, no = [i for i, x in enumerate(labels) if x == "yes"], [
        i for i, x in enumerate(labels) if x == "no"]
    worst_missed = sorted((i for i in yes if share[i] < 0.5), key=lambda i: share[i])
    worst_false = sorted((i for i in no if share[i] >= 0.5), key=lambda i: -share[i])
    return {"topic": topic, "repeats": repeats, "folds": folds, "examples": len(examples),
            "yes": len(yes), "no": len(no), "either": len(examples) - len(yes) - len(no),
            "candidates": int(selected.sum()), "model": mean, "query": query_only,
            "missed": [(examples[i].key, examples[i].doc.title, float(prob[:, i].mean()),
                        bool(selected[i])) for i in worst_missed],
            "false": [(examples[i].key, examples[i].doc.title, float(prob[:, i].mean()))
                      for i in worst_false]}


def _subset(f: _Features, idx: np.ndarray) -> _Features:
    sub = object.__new__(_Features)
    sub.terms = [f.terms[i] for i in idx]
    sub.concepts, sub.y, sub.w = f.concepts[idx], f.y[idx], f.w[idx]
    return sub
