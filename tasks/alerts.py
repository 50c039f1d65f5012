"""Stages 10 and 11: record alerts, then deliver them.

Matches, their alerts and one pending delivery per channel are written in one transaction (an
outbox); delivery reads the outbox after the commit and records each attempt. So an alert is
created once per (topic, article), a crash between the two stages loses nothing, and a channel
that was down gets its alerts on a later run. Channels: the terminal, the JSON-lines alert log,
and every Apprise URL listed on the topic.

Policy, decided when the outbox rows are written: a topic in digest mode gets only the log
row (the digest carries it); past the topic's hourly cap a person's channels get a 'capped'
row instead of a message (the digest carries those too); with `[alerts] follow_up_outlets`
set, a story that alerted with fewer outlets alerts once more when it reaches that many.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
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


def outbox_rows(cfg: Config, new: list[tuple[str, str, str]],
                sent_last_hour: dict[str, int]) -> list[dict[str, str]]:
    """Delivery rows for new (topic, article, kind) alerts: pending, or held for the digest
    by the topic's delivery mode or its hourly cap (counted on alerts, not channels)."""
    topics = {t.name: t for t in cfg.topics}
    channels = channels_for(cfg)
    used = dict(sent_last_hour)
    rows = []
    for topic, article_id, kind in new:
        spec = topics.get(topic)
        cap = (spec.max_alerts_per_hour if spec and spec.max_alerts_per_hour
               else cfg.alerts.max_per_topic_per_hour)
        held = "digest" if spec and spec.delivery == "digest" else None
        if held is None and used.get(topic, 0) >= cap:
            held = "capped"
        if held is None:
            used[topic] = used.get(topic, 0) + 1
        for channel in channels.get(topic, [LOG]):
            status = "pending" if channel == LOG or held is None else held
            rows.append({"topic": topic, "article_id": article_id, "kind": kind,
                         "channel": channel, "status": status})
    return rows


def record_alerts(cfg: Config, run_id: str, matches: list[Match], alert: bool = True,
                  now: datetime | None = None) -> tuple[int, list[tuple[str, str, str]]]:
    """Store matches and (unless alert=False) their alerts and outbox rows; return (new
    matches, new (topic, article, kind) alerts)."""
    now = now or datetime.now(UTC)
    rows = [{**asdict(m), "terms": list(m.terms), "matched_at": now, "run_id": run_id}
            for m in matches]
    n = cfg.alerts.follow_up_outlets
    follow_up = {"outlets": n, "now": now, "run_id": run_id} if alert and n else None
    outbox = (lambda new, recent: outbox_rows(cfg, new, recent)) if alert else None
    return db.record_matches(cfg.warehouse_path, rows, outbox, follow_up,
                             since=now - timedelta(hours=1))


def describe(a: Alert) -> tuple[str, str]:
    """Title and body of the message a person gets."""
    when = a.published_at.strftime("%Y-%m-%d %H:%M UTC") if a.published_at else "date unknown"
    outlets = a.outlets or (a.outlet,)
    grown = f"now {len(outlets)} outlets: " if a.kind == "follow_up" else ""
    title = f"[{a.topic}] {grown}{a.title or a.url}"
    body = (f"{a.outlet} · {when}\n"
            f"{len(outlets)} outlet{'s' if len(outlets) != 1 else ''} so far: "
            f"{', '.join(outlets)}\n{a.url}\n"
            + (f"{a.snippet}\n" if a.snippet else "")
            + f"score {a.score:g}; matched {', '.join(a.terms)}"
            + ("" if a.probability is None else f"; relevance {a.probability:.2f}"))
    return title, body


def _log_line(a: Alert) -> str:
    rec = {"topic": a.topic, "kind": a.kind, "article_id": a.article_id, "title": a.title,
           "outlet": a.outlet,
           "url": a.url, "published_at": a.published_at.isoformat() if a.published_at else None,
           "score": a.score, "terms": list(a.terms), "snippet": a.snippet,
           "outlets": list(a.outlets), "probability": a.probability}
    return json.dumps(rec, ensure_ascii=False)


def notify(cfg: Config, channel: str, title: str, body: str, console: Console,
           log_record: str = "") -> str | None:
    """Send one message on one channel; return None when sent, else the error."""
    if channel == TERMINAL:
        indented = body.replace("\n", "\n      ")
        console.print(f"[bold red]ALERT[/] {escape(title)}\n      {escape(indented)}",
                      highlight=False, soft_wrap=True)
        return None
    if channel == LOG:
        path = cfg.alert_log_path
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as f:
            f.write(log_record + "\n")
        return None
    notifier = apprise.Apprise()
    if not notifier.add(channel):
        return "not a valid Apprise URL"
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        ok = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    return None if ok else (captured.getvalue().strip().splitlines() or ["failed"])[-1][:500]


def deliver_alerts(cfg: Config, console: Console | None = None) -> list[Delivery]:
    console = console or Console()
    pending = db.pending_deliveries(cfg.warehouse_path, cfg.alerts.max_attempts)
    done = []
    for row in pending:
        a = Alert(**{**row, "terms": tuple(row["terms"]), "outlets": tuple(row["outlets"])})
        error = notify(cfg, a.channel, *describe(a), console, _log_line(a))
        done.append(Delivery(a.topic, a.article_id, a.kind, a.channel,
                             "sent" if error is None else "failed", error, datetime.now(UTC)))
    db.record_deliveries(cfg.warehouse_path, done)
    return done


def alert_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@stage("record-alerts")
def record_alerts_task(cfg: Config, run_id: str,
                       matches: list[Match]) -> tuple[int, list[tuple[str, str, str]]]:
    return record_alerts(cfg, run_id, matches)


@stage("deliver-alerts")
def deliver_alerts_task(cfg: Config) -> list[Delivery]:
    return deliver_alerts(cfg)
