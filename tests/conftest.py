from __future__ import annotations

import os

# Prefect reads these when first imported: quiet logs, no telemetry, a patient start-up.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Server, static_site

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "seeds" / "fixture"
FIXTURE_FEEDS = [
    ("The Daily Meridian — World", "The Daily Meridian", "feeds/daily-meridian-world.xml"),
    ("Northern Ledger", "Northern Ledger", "feeds/northern-ledger.atom"),
    ("Capital Wire", "Capital Wire", "feeds/capital-wire.xml"),
]


FIXTURE_SITES = "127.0.0.1 dailymeridian.example northernledger.example capitalwire.example"


def fixture_expectations() -> dict[str, dict]:
    """{page path relative to the fixture: what the page says it expects}."""
    out = {}
    for page in sorted(FIXTURE.glob("sites/**/*.html")):
        m = re.search(r"<!-- newswatch-fixture (.*?) -->", page.read_text(encoding="utf-8"))
        assert m, f"{page} does not say what it expects"
        out[page.relative_to(FIXTURE).as_posix()] = json.loads(m.group(1))
    return out


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def site() -> Iterator[Server]:
    """The seed fixture served over HTTP on 127.0.0.1, fresh routes per test."""
    with static_site(FIXTURE) as server:
        yield server


def write_config(tmp: Path, feeds: list[dict], topics_toml: str | None = None,
                 extra: str = "", alerts: str = "", labels: Path | None = None,
                 models: Path | None = None, warehouse: str = "") -> Path:
    """A complete config in `tmp`: loopback allowed, warehouse and alert log inside `tmp`;
    topic labels and models read from seeds/ (the shipped ones) unless given."""
    lines = []
    for f in feeds:
        lines.append("[[feed]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in f.items()]
        lines.append("")
    (tmp / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
    if topics_toml is None:
        topics_toml = (ROOT / "seeds" / "topics.toml").read_text(encoding="utf-8")
    (tmp / "topics.toml").write_text(topics_toml, encoding="utf-8")
    cfg = tmp / "newswatch.toml"
    cfg.write_text(
        "[warehouse]\npath = \"nw.duckdb\"\n" + warehouse +
        "[sources]\nfeeds = \"feeds.toml\"\ntopics = \"topics.toml\"\n"
        f"labels = {json.dumps(str(labels or ROOT / 'seeds' / 'labels'))}\n"
        f"models = {json.dumps(str(models or ROOT / 'seeds' / 'models'))}\n"
        "[alerts]\nlog = \"alerts.jsonl\"\n" + alerts +
        # The loopback server stands in for the fixture's outlets: their pages, served from
        # 127.0.0.1, name the outlets' own URLs as canonical.
        f"[dedup]\nsyndication_partners = \"{FIXTURE_SITES}\"\n" +
        "[fetch]\nallow_private_networks = true\nallowed_networks = \"127.0.0.0/8\"\n"
        "per_host_interval_s = 0.0\nretry_backoff_s = 0.05\nconnect_timeout_s = 2.0\n"
        "read_timeout_s = 2.0\ntotal_timeout_s = 5.0\n" + extra,
        encoding="utf-8",
    )
    return cfg


def fixture_feeds(base_url: str) -> list[dict]:
    return [{"name": n, "outlet": o, "url": f"{base_url}/{p}"} for n, o, p in FIXTURE_FEEDS]
