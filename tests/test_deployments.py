"""Schedules: `newswatch serve` registers the ingest deployment (every 15 minutes, one run at
a time) with a real Prefect API, and prefect.yaml says the same."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config


def test_prefect_yaml_declares_ingest_digest_and_maintenance() -> None:
    import yaml  # prefect's own dependency

    from flows.serve import DIGEST_CRON, MAINTENANCE_CRON

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    ingest, digest, maintenance = spec["deployments"]
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


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_serve_registers_the_three_schedules_with_one_run_at_a_time(
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
    finally:
        proc.terminate()
        proc.wait(timeout=30)
