"""Schedules: `newswatch serve` registers the ingest deployment (every 15 minutes, one run at
a time) with a real Prefect API and starts an ingest at once; prefect.yaml says the same."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config


def test_prefect_yaml_declares_ingest_digest_and_maintenance() -> None:
    import yaml  # prefect's own dependency

    from flows.serve import DIGEST_CRON, MAINTENANCE_CRON

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    ingest, digest, maintenance, *_ = spec["deployments"]
    for d, name in ((ingest, "ingest"), (digest, "digest"), (maintenance, "maintenance")):
        assert d["name"] == name
        assert d["entrypoint"] == f"flows/{name}.py:{name}"
        path, func = d["entrypoint"].split(":")
        assert f"async def {func}(" in (ROOT / path).read_text(encoding="utf-8")
        assert d["concurrency_limit"] == 1
        assert d["parameters"] == {"config_path": "newswatch.toml"}
        assert d["work_pool"] == {"name": "newswatch"}
    assert ingest["schedules"] == [{"interval": 900}]
    # The same schedules as `newswatch serve`.
    assert digest["schedules"] == [{"cron": DIGEST_CRON, "timezone": "UTC"}]
    assert maintenance["schedules"] == [{"cron": MAINTENANCE_CRON, "timezone": "UTC"}]


def test_prefect_yaml_declares_an_ingest_deployment_per_shard_on_the_process_pool() -> None:
    import yaml

    from tasks.shards import parse_shard

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    shards = spec["deployments"][3:]
    assert [d["name"] for d in shards] == ["ingest-shard-0", "ingest-shard-1"]
    for i, d in enumerate(shards):
        assert d["entrypoint"] == "flows/ingest.py:ingest"
        assert d["parameters"] == {"config_path": "newswatch.toml", "shard": f"{i}/2"}
        assert parse_shard(d["parameters"]["shard"]).index == i
        assert d["schedules"] == [{"interval": 900}]
        assert d["concurrency_limit"] == 1  # one run per shard; the shards run in parallel
        assert d["work_pool"] == {"name": "newswatch"}
    # The flow takes the parameter the deployments pass.
    assert 'shard: str | None = None' in (ROOT / "flows/ingest.py").read_text(encoding="utf-8")
    # The header says how to start them: a process pool and its workers.
    header = (ROOT / "prefect.yaml").read_text(encoding="utf-8").split("name: newswatch")[0]
    assert "prefect work-pool create newswatch --type process" in header
    assert "prefect deploy --name 'ingest-shard-*' --name digest --name maintenance" in header
    assert "prefect worker start --pool newswatch" in header


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_serve_starts_an_ingest_at_once_and_registers_the_three_schedules(
        tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    cfg = write_config(tmp_path, [])
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    proc = subprocess.Popen([sys.executable, "-m", "newswatch.cli", "--config", str(cfg),
                             "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        found: dict = {}
        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while len(found) < 3 and time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"newswatch serve exited: {proc.stdout.read()}")
                found = {d.name: d for d in client.read_deployments()
                         if d.parameters == {"config_path": str(cfg)}}
                time.sleep(0.5)
        assert sorted(found) == ["digest", "ingest", "maintenance"]
        ingest = found["ingest"]
        assert [s.schedule.interval.total_seconds() for s in ingest.schedules] == [900.0]
        assert [s.schedule.cron for s in found["digest"].schedules] == ["0 7 * * *"]
        assert [s.schedule.cron for s in found["maintenance"].schedules] == ["30 3 * * *"]
        assert all(d.global_concurrency_limit.limit == 1 for d in found.values())
        # The first ingest runs now, not at the first tick of the interval.
        warehouse = tmp_path / "nw.duckdb"
        runs: list = []
        while runs != [("ok",)] and time.monotonic() < deadline + 90:
            if proc.poll() is not None:
                pytest.fail(f"newswatch serve exited: {proc.stdout.read()}")
            if warehouse.exists():
                from warehouse import db

                runs = db.read_query(warehouse, "SELECT status FROM runs", wait_s=10)[1]
            time.sleep(0.5)
        assert runs == [("ok",)]
        # The next runs, which the temporary server (no scheduler) leaves to serve: once each.
        import asyncio

        from flows.serve import schedule_next_runs

        now = datetime(2026, 11, 28, 5, 0, 7, tzinfo=UTC)
        ids = [found[n].id for n in ("ingest", "digest", "maintenance")]
        first = asyncio.run(schedule_next_runs(ids, now))
        again = asyncio.run(schedule_next_runs(ids, now))
        assert [r.id for r in again] == [r.id for r in first]
        slots = [r.state.state_details.scheduled_time for r in first]
        anchor = ingest.schedules[0].schedule.anchor_date
        assert 0 < (slots[0] - now).total_seconds() <= 900
        assert (slots[0] - anchor).total_seconds() % 900 == 0  # on the 15-minute rhythm
        assert slots[1:] == [datetime(2026, 11, 28, 7, 0, tzinfo=UTC),
                             datetime(2026, 11, 29, 3, 30, tzinfo=UTC)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
