"""The digest: per topic, one message listing the stories alerted since its last digest.

Topics with `delivery = "digest"` or `"both"` get one; so does any topic whose hourly cap held
alerts back. Periods chain (each starts where the topic's last digest ended), so a missed or
late digest run loses nothing and nothing is listed twice. A period with no story sends
nothing. Digests are recorded before they are sent and retried like alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console

from newswatch.config import Config
from tasks import stage
from tasks.alerts import TERMINAL, notify
from warehouse import db


@dataclass(frozen=True)
class Digest:
    topic: str
    channel: str
    period_start: datetime
    period_end: datetime
    stories: int
    title: str
    body: str


@dataclass(frozen=True)
class DigestDelivery:
    topic: str
    channel: str
    period_end: datetime
    status: str
    error: str | None
    at: datetime


@dataclass
class DigestResult:
    made: int = 0
    sent: int = 0
    failed: int = 0


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def compose(topic: str, items: list[dict], start: datetime, end: datetime,
            limit: int) -> tuple[str, str]:
    """Title and body of one topic's digest; the stories come most-reported first."""
    n = len(items)
    title = f"[{topic}] digest: {n} stor{'y' if n == 1 else 'ies'}"
    lines = [f"{_when(start)} – {_when(end)}", ""]
    for i, it in enumerate(items[:limit], 1):
        outlets = it["outlets"]
        lines.append(f"{i}. {it['title'] or it['url']}")
        lines.append(f"   {len(outlets)} outlet{'s' if len(outlets) != 1 else ''}: "
                     f"{', '.join(outlets)} · first seen {_when(it['first_seen_at'])}")
        lines.append(f"   {it['url']}")
        if it["snippet"]:
            lines.append(f"   {it['snippet']}")
    if n > limit:
        lines.append(f"… and {n - limit} more stor{'y' if n - limit == 1 else 'ies'}.")
    return title, "\n".join(lines)


def build_digests(cfg: Config, now: datetime) -> list[Digest]:
    digest_topics = [t.name for t in cfg.topics if t.delivery in ("digest", "both")]
    by_topic: dict[str, list[dict]] = {}
    for row in db.digest_items(cfg.warehouse_path, digest_topics, now):
        by_topic.setdefault(row["topic"], []).append(row)
    channels = {t.name: ([TERMINAL] if cfg.alerts.terminal else []) + list(t.channels)
                for t in cfg.topics}
    out = []
    for topic, items in by_topic.items():
        start = items[0]["period_start"]
        title, body = compose(topic, items, start, now, cfg.alerts.digest_max_stories)
        out += [Digest(topic, c, start, now, len(items), title, body)
                for c in channels.get(topic, [TERMINAL])]
    return out


def run_digest(cfg: Config, now: datetime | None = None,
               console: Console | None = None) -> DigestResult:
    """Record this period's digests, then send every digest not yet sent."""
    now, console = now or datetime.now(UTC), console or Console()
    made = build_digests(cfg, now)
    db.record_digests(cfg.warehouse_path, made)
    result = DigestResult(made=len(made))
    done = []
    for d in db.pending_digests(cfg.warehouse_path, cfg.alerts.max_attempts):
        error = notify(cfg, d["channel"], d["title"], d["body"], console)
        done.append(DigestDelivery(d["topic"], d["channel"], d["period_end"],
                                   "sent" if error is None else "failed", error,
                                   datetime.now(UTC)))
        result.sent += error is None
        result.failed += error is not None
    db.record_digest_deliveries(cfg.warehouse_path, done)
    return result


@stage("digest")
def digest_task(cfg: Config) -> DigestResult:
    return run_digest(cfg)
