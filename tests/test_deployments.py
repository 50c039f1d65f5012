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


def test_prefect_yaml_declares_the_ingest_deployment() -> None:
    import yaml  # prefect's own dependency

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    [ingest] = spec["deployments"]
    assert ingest["entrypoint"] == "flows/ingest.py:ingest"
    path, func = ingest["entrypoint"].split(":")
    assert f"async def {func}(" in (ROOT / path).read_text(encoding="utf-8")
    assert ingest["schedules"] == [{"interval": 900}]
    assert ingest["concurrency_limit"] == 1
    assert ingest["parameters"] == {"config_path": "newswatch.toml"}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_serve_registers_a_schedule_of_15_minutes_with_one_run_at_a_time(
        tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    cfg = write_config(tmp_path, [])
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    proc = subprocess.Popen([sys.executable, "-m", "newswatch.cli", "--config", str(cfg),
                             "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deployment = None
        deadline = time.monotonic() + 60
        with get_client(sync_client=True) as client:
            while deployment is None and time.monotonic() < deadline:
                if proc.poll() is not None:
                    pytest.fail(f"newswatch serve exited: {proc.stdout.read()}")
                found = [d for d in client.read_deployments() if d.name == "ingest"]
                deployment = found[0] if found else None
                time.sleep(0.5)
        assert deployment is not None, "serve registered no deployment within 60 s"
        assert [s.schedule.interval.total_seconds() for s in deployment.schedules] == [900.0]
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.parameters == {"config_path": str(cfg)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
