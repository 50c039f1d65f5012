"""Stages 10 and 11: record alerts, then deliver them.

Matches, their alerts and one pending delivery per channel are written in one transaction (an
outbox); delivery reads the outbox after the commit and records each attempt. So an alert is
created once per (topic, article), a crash between the two stages loses nothing, and a channel
that was down gets its alerts on a later run. Channels: the terminal, the JSON-lines alert log,
and every Apprise URL listed on the topic.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import apprise
from rich.console import Console
from rich.markup import escape

from newswatch.config import Config
from tasks import stage
from tasks.models import Alert, Delivery, Match
from warehouse import db

TERMINAL, LOG = "terminal", "log"


def channels_for(cfg: Config) -> dict[str, list[str]]:
    builtin = ([TERMINAL] if cfg.alerts.terminal else []) + [LOG]
    return {t.name: builtin + list(t.channels) for t in cfg.topics}


def record_alerts(cfg: Config, run_id: str, matches: list[Match],
                  alert: bool = True) -> tuple[int, list[tuple[str, str]]]:
    """Store matches and (unless alert=False) their alerts; return (new matches, alerted)."""
    now = datetime.now(UTC)
    rows = [{**asdict(m), "terms": list(m.terms), "matched_at": now, "run_id": run_id}
            for m in matches]
    return db.record_matches(cfg.warehouse_path, rows, channels_for(cfg), alert)


def describe(a: Alert) -> tuple[str, str]:
    """Title and body of the message a person gets."""
    when = a.published_at.strftime("%Y-%m-%d %H:%M UTC") if a.published_at else "date unknown"
    title = f"[{a.topic}] {a.title or a.url}"
    outlets = a.outlets or (a.outlet,)
    body = (f"{a.outlet} · {when}\n"
            f"{len(outlets)} outlet{'s' if len(outlets) != 1 else ''} so far: "
            f"{', '.join(outlets)}\n{a.url}\n"
            + (f"{a.snippet}\n" if a.snippet else "")
            + f"score {a.score:g}; matched {', '.join(a.terms)}")
    return title, body


def _log_line(a: Alert) -> str:
    rec = {"topic": a.topic, "article_id": a.article_id, "title": a.title, "outlet": a.outlet,
           "url": a.url, "published_at": a.published_at.isoformat() if a.published_at else None,
           "score": a.score, "terms": list(a.terms), "snippet": a.snippet,
           "outlets": list(a.outlets)}
    return json.dumps(rec, ensure_ascii=False)


def _send(cfg: Config, a: Alert, console: Console) -> str | None:
    """Deliver one alert on its channel; return None when sent, else the error."""
    title, body = describe(a)
    if a.channel == TERMINAL:
        indented = body.replace("\n", "\n      ")
        console.print(f"[bold red]ALERT[/] {escape(title)}\n      {escape(indented)}",
                      highlight=False, soft_wrap=True)
        return None
    if a.channel == LOG:
        path = cfg.alert_log_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(_log_line(a) + "\n")
        return None
    notifier = apprise.Apprise()
    if not notifier.add(a.channel):
        return "not a valid Apprise URL"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        ok = notifier.notify(title=title, body=body)
    return None if ok else (captured.getvalue().strip().splitlines() or ["failed"])[-1][:500]


def deliver_alerts(cfg: Config, console: Console | None = None) -> list[Delivery]:
    console = console or Console()
    pending = db.pending_deliveries(cfg.warehouse_path, cfg.alerts.max_attempts)
    done = []
    for row in pending:
        a = Alert(**{**row, "terms": tuple(row["terms"]), "outlets": tuple(row["outlets"])})
        error = _send(cfg, a, console)
        done.append(Delivery(a.topic, a.article_id, a.channel,
                             "sent" if error is None else "failed", error, datetime.now(UTC)))
    db.record_deliveries(cfg.warehouse_path, done)
    return done


def alert_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@stage("record-alerts")
def record_alerts_task(cfg: Config, run_id: str,
                       matches: list[Match]) -> tuple[int, list[tuple[str, str]]]:
    return record_alerts(cfg, run_id, matches)


@stage("deliver-alerts")
def deliver_alerts_task(cfg: Config) -> list[Delivery]:
    return deliver_alerts(cfg)
