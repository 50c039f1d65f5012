"""Alert policy end to end with real receivers on 127.0.0.1: e-mail through a real SMTP server
(aiosmtpd), a JSON webhook, the hourly cap, digest mode and its flow, follow-ups, maintenance."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from flows.digest import digest
from flows.maintenance import maintenance
from newswatch.config import load_config
from tasks.alerts import alert_log
from tests import servers
from tests.conftest import fixture_feeds, write_config
from tests.test_flow import SEED_TITLE, TOPIC, q, run, with_channel
from warehouse import db

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

# Matches the seed story (three copies) and the four unrelated articles: five stories.
EVERYTHING = """
[[topic]]
name = "everything"
query = "title:(trump OR shares OR chess OR council OR bank)"
channels = ["{hook}"]
{extra}
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_alert_arrives_by_email_after_the_mail_server_comes_back(
        site: servers.Server, tmp_path: Path) -> None:
    port = _free_port()
    mailto = (f"mailto://127.0.0.1:{port}?from=newswatch@example.org"
              f"&to=analyst@example.org&mode=insecure")
    cfg = write_config(tmp_path, fixture_feeds(site.url)[:1], with_channel(mailto))
    down = run(cfg)  # nothing listens on the port yet: the channel is down
    assert (down.alerts_new, down.deliveries_sent, down.deliveries_failed) == (1, 2, 1)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = run(cfg)
        assert (up.alerts_new, up.deliveries_sent, up.deliveries_failed) == (0, 1, 0)
        run(cfg)  # nothing more to send
    finally:
        controller.stop()
    [mail] = inbox.messages  # exactly one: no duplicate after the retry
    assert (mail.mail_from, mail.rcpt_tos) == ("newswatch@example.org", ["analyst@example.org"])
    msg = message_from_bytes(mail.content)
    assert str(make_header(decode_header(msg["Subject"]))) == f"[{TOPIC}] {SEED_TITLE}"
    body = msg.get_payload(decode=True).decode("utf-8").splitlines()
    assert body[0] == "The Daily Meridian · 2025-02-09 06:12 UTC"
    assert body[1] == "1 outlet so far: The Daily Meridian"
    assert body[2] == (f"{site.url}/sites/www.dailymeridian.example/world/2025/02/09/"
                       f"trump-says-he-has-spoken-to-putin-about-ending-ukraine-war.html")
    assert body[3].startswith("US President Donald **Trump** said he has **spoken** to")
    assert body[4] == ("score 11; matched lead:trump … spoken … putin, title:putin, "
                       "title:spoken, title:trump")
    assert q(cfg, "SELECT channel, status, attempts FROM deliveries ORDER BY channel") == [
        ("log", "sent", 1), (mailto, "sent", 2), ("terminal", "sent", 1)]


def _hook_bodies(hook: servers.Server) -> list[dict]:
    return [json.loads(b) for b in hook.bodies]


def test_past_the_hourly_cap_alerts_wait_for_the_digest(site: servers.Server,
                                                         tmp_path: Path) -> None:
    with servers.webhook_receiver() as hook:
        url = hook.url.replace("http://", "json://") + "/alerts"
        cfg = write_config(tmp_path, fixture_feeds(site.url),
                           EVERYTHING.format(hook=url, extra="max_alerts_per_hour = 2"))
        s = run(cfg)
        assert s.alerts_new == 5
        assert len(hook.bodies) == 2  # the cap
        assert q(cfg, """SELECT status, count(*) FROM deliveries WHERE channel LIKE 'json%'
                         GROUP BY ALL ORDER BY 1""") == [("capped", 3), ("sent", 2)]
        assert len(alert_log(tmp_path / "alerts.jsonl")) == 5  # the log is a record: all 5
        capped = sorted(r[0] for r in q(cfg, """
            SELECT a.title FROM deliveries d JOIN articles a USING (article_id)
            WHERE d.channel LIKE 'json%' AND d.status = 'capped'"""))
        result = asyncio.run(digest(str(cfg)))
        assert (result.made, result.sent, result.failed) == (2, 2, 0)  # terminal + webhook
        [sent] = _hook_bodies(hook)[2:]
        assert sent["title"] == "[everything] digest: 3 stories"
        listed = sorted(line.split(". ", 1)[1] for line in sent["message"].splitlines()
                        if line[:1].isdigit() and ". " in line[:4])
        assert listed == capped
        # The next digest has nothing new: nothing is sent, nothing empty.
        again = asyncio.run(digest(str(cfg)))
        assert (again.made, again.sent) == (0, 0)
        assert len(hook.bodies) == 3


def test_digest_mode_sends_one_summary_and_retries_it_when_the_channel_was_down(
        site: servers.Server, tmp_path: Path) -> None:
    with servers.webhook_receiver() as hook:
        url = hook.url.replace("http://", "json://") + "/alerts"
        topics = with_channel(url).replace('channels = [', 'delivery = "digest"\nchannels = [', 1)
        cfg = write_config(tmp_path, fixture_feeds(site.url), topics)
        s = run(cfg)
        assert s.alerts_new == 1
        assert hook.bodies == []  # digest mode: no message per story
        assert len(alert_log(tmp_path / "alerts.jsonl")) == 1
        hook.routes["/alerts"] = servers.status(503)
        down = asyncio.run(digest(str(cfg)))
        assert (down.made, down.sent, down.failed) == (2, 1, 1)
        assert q(cfg, "SELECT status, attempts FROM digests WHERE channel LIKE 'json%'") == [
            ("failed", 1)]
        del hook.routes["/alerts"]
        up = asyncio.run(digest(str(cfg)))
        assert (up.made, up.sent, up.failed) == (0, 1, 0)  # the failed one, retried
        [sent] = _hook_bodies(hook)
        assert sent["title"] == f"[{TOPIC}] digest: 1 story"
        lines = sent["message"].splitlines()
        assert lines[2] == f"1. {SEED_TITLE}"
        assert lines[3].startswith("   3 outlets: Capital Wire, Northern Ledger, "
                                   "The Daily Meridian · first seen ")
        assert lines[4] == (f"   {site.url}/sites/www.dailymeridian.example/world/2025/02/09/"
                            f"trump-says-he-has-spoken-to-putin-about-ending-ukraine-war.html")
        assert lines[5].startswith("   US President Donald **Trump** said he has **spoken**")
        assert len(lines) == 6
        final = asyncio.run(digest(str(cfg)))
        assert (final.made, final.sent, final.failed) == (0, 0, 0)
        assert len(hook.bodies) == 1  # no duplicate


def test_a_follow_up_when_the_story_reaches_n_outlets(site: servers.Server,
                                                      tmp_path: Path) -> None:
    feeds = fixture_feeds(site.url)
    news = []
    for n in (1, 2, 3, 3):  # one more outlet's feed each run, then nothing new
        cfg = write_config(tmp_path, feeds[:n], alerts="follow_up_outlets = 3\n")
        news.append(run(cfg).alerts_new)
    assert news == [1, 0, 1, 0]
    log = alert_log(tmp_path / "alerts.jsonl")
    assert [(r["kind"], r["title"], len(r["outlets"])) for r in log] == [
        ("first", SEED_TITLE, 1), ("follow_up", SEED_TITLE, 3)]
    assert q(cfg, "SELECT kind, outlets FROM alerts ORDER BY created_at") == [
        ("first", 1), ("follow_up", 3)]


def test_maintenance_deletes_archive_days_past_retention(tmp_path: Path) -> None:
    cfg_path = write_config(tmp_path, [], extra="[archive]\ndir = \"arch\"\nretention_days = 7\n")
    cfg = load_config(cfg_path)
    today = datetime.now(UTC).date()
    old, recent = (today - timedelta(days=8)).isoformat(), today.isoformat()
    for day in (old, recent):
        (tmp_path / "arch" / day).mkdir(parents=True)
        (tmp_path / "arch" / day / "r.warc.gz").write_bytes(b"x" * 100)
    (tmp_path / "arch" / "notes").mkdir()  # not a day: left alone
    db.migrate(cfg.warehouse_path)
    import duckdb

    with duckdb.connect(str(cfg.warehouse_path)) as con:
        for aid, day in (("a", old), ("b", recent)):
            con.execute("INSERT INTO articles (article_id, url, canonical_url, text, outlet, "
                        "feed_url, content_hash, extraction_method, first_seen_at, run_id, "
                        "warc_file, warc_offset) VALUES (?, ?, ?, 't', 'o', 'f', 'h', "
                        "'trafilatura', now(), 'r', ?, 0)",
                        [aid, f"http://x/{aid}", f"http://x/{aid}", f"{day}/r.warc.gz"])
    r = asyncio.run(maintenance(str(cfg_path)))
    assert (r.archive_days_deleted, r.archive_bytes_freed, r.records_unlinked) == ([old], 100, 1)
    assert sorted(p.name for p in (tmp_path / "arch").iterdir()) == [recent, "notes"]
    assert q(cfg_path, "SELECT article_id, warc_file FROM articles ORDER BY 1") == [
        ("a", None), ("b", f"{recent}/r.warc.gz")]
    assert os.path.exists(tmp_path / "arch" / recent / "r.warc.gz")
