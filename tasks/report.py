"""Stage 12: what a run did, for people and automations. A markdown artifact in Prefect (new
stories, matches, failures, counts: readable in the UI next to the run) and one Prefect event
per new match (`newswatch.topic.matched`), so users can hang Prefect automations on them."""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event

from newswatch.config import Config
from tasks import stage
from tasks.models import Match
from warehouse import db

ARTIFACT_KEY = "newswatch-ingest"  # one key: the UI shows each run's report as a version
# Rows a section lists: what a person reads in the UI. A backlog or a first run over a big feed
# list has tens of thousands (a 2,000-feed warm-up: 59,382 failed fetches, a 4 MB artifact that
# Prefect's server refused to announce); the section then says how many more and where they are.
REPORT_ROWS = 100


def _cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]], source: str | None = None) -> str:
    """A markdown table; with `source` ("FROM … WHERE …", where all the rows are in the
    warehouse), of the first REPORT_ROWS rows."""
    shown = rows if source is None else rows[:REPORT_ROWS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in shown]
    if len(shown) < len(rows):
        lines += ["", f"… and {len(rows) - REPORT_ROWS:,} more; all of them: "
                      f"`newswatch sql \"SELECT * {source}\"`"]
    return "\n".join(lines)


def markdown(run_id: str, counts: dict[str, int], report: dict[str, list[dict]]) -> str:
    stories = [r for r in report["stories"] if r["new_story"]]
    joined = [r for r in report["stories"] if not r["new_story"]]
    parts = [f"# newswatch ingest run {run_id}", "",
             _table(["count", "value"], [[k.replace("_", " "), v] for k, v in counts.items()]),
             "", f"## New stories ({len(stories)})", ""]
    articles = f"FROM articles WHERE run_id = '{run_id}'"
    parts.append(_table(["title", "outlet", "outlets so far"],
                        [[r["title"], r["outlet"], r["outlets"]] for r in stories],
                        f"{articles} AND story_id = article_id")
                 if stories else "none")
    parts += ["", f"## Articles that joined a story ({len(joined)})", ""]
    parts.append(_table(["title", "outlet", "copy", "story outlets"],
                        [[r["title"], r["outlet"], "yes" if r["copy"] else "no", r["outlets"]]
                         for r in joined], f"{articles} AND story_id <> article_id")
                 if joined else "none")
    parts += ["", f"## Topic matches ({len(report['matches'])})", ""]
    parts.append(_table(["topic", "title", "outlet", "score", "relevance", "alerted"],
                        [[r["topic"], r["title"], r["outlet"], f"{r['score']:g}",
                          "—" if r["probability"] is None else f"{r['probability']:.2f}",
                          "yes" if r["alerted"] else "no (story already alerted)"
                          if r["relevant"] else "no (the topic's model rejected it)"]
                         for r in report["matches"]],
                        f"FROM topic_matches WHERE run_id = '{run_id}'")
                 if report["matches"] else "none")
    parts += ["", f"## Failures ({len(report['failures'])})", ""]
    parts.append(_table(["kind", "url", "status", "reason"],
                        [[r["kind"], r["url"], r["status"], r["reason"]]
                         for r in report["failures"]],
                        f"FROM fetch_log WHERE run_id = '{run_id}' AND status NOT IN ('ok', "
                        f"'not_modified')")
                 if report["failures"] else "none")
    return "\n".join(parts) + "\n"


def publish(cfg: Config, run_id: str, counts: dict[str, int], matches: list[Match]) -> int:
    """Create the run's artifact and emit one event per match; return the events emitted."""
    report = db.run_report(cfg.warehouse_path, run_id)
    create_markdown_artifact(markdown(run_id, counts, report), key=ARTIFACT_KEY,
                             description=f"newswatch ingest run {run_id}")
    emitted = 0
    for m in matches:
        event = emit_event(
            event="newswatch.topic.matched",
            resource={"prefect.resource.id": f"newswatch.article.{m.article_id}",
                      "prefect.resource.name": m.article_id},
            related=[{"prefect.resource.id": f"newswatch.topic.{m.topic}",
                      "prefect.resource.role": "topic"}],
            payload={"topic": m.topic, "article_id": m.article_id, "score": m.score,
                     "terms": list(m.terms), "run_id": run_id,
                     "probability": m.probability, "relevant": m.relevant},
        )
        emitted += event is not None
    return emitted


@stage("report")
def publish_task(cfg: Config, run_id: str, counts: dict[str, int], matches: list[Match]) -> int:
    return publish(cfg, run_id, counts, matches)
