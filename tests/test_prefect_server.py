"""The deploy path a Prefect user follows, for real: `prefect server start` on a free loopback
port, `prefect work-pool create`, `prefect deploy` from prefect.yaml, a process worker,
`prefect deployment run` — then the warehouse holds the seed story."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PREFECT = str(Path(sys.executable).with_name("prefect"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run([PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _finish(api: str, started: str) -> str:
    """Wait for the flow run `prefect deployment run` started; its final state type."""
    flow_run_id = started.split("UUID:")[1].split()[0]
    deadline, state = time.monotonic() + 240, ""
    while time.monotonic() < deadline:
        state = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=5).json()["state_type"]
        if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            break
        time.sleep(1)
    return state


def test_deploy_and_run_through_a_process_worker(tmp_path: Path) -> None:
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false",
           "NEWSWATCH_HOME": str(ROOT), "PREFECT_LOGGING_LEVEL": "WARNING"}
    warehouse = tmp_path / "nw.duckdb"
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(f'[warehouse]\npath = "{warehouse}"\n'
                   f'[sources]\nfeeds = "{ROOT / "seeds" / "feeds.toml"}"\n'
                   f'topics = "{ROOT / "seeds" / "topics.toml"}"\n'
                   f'[alerts]\nlog = "{tmp_path / "alerts.jsonl"}"\nterminal = false\n',
                   encoding="utf-8")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    worker = None
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "prefect server exited"
            assert time.monotonic() < deadline, "prefect server did not start in 120 s"
            time.sleep(0.5)
        _prefect(env, "work-pool", "create", "newswatch", "--type", "process")
        out = _prefect(env, "--no-prompt", "deploy", "--name", "ingest", "--name", "digest",
                       "--name", "maintenance", "--name", "ingest-shard-*")
        for name in ("ingest/ingest", "digest/digest", "maintenance/maintenance",
                     "ingest/ingest-shard-0", "ingest/ingest-shard-1"):
            assert name in out
        worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "newswatch"], env=env,
                                  cwd=tmp_path, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        started = _prefect(env, "deployment", "run", "ingest/ingest",
                           "--param", f"config_path={cfg}")
        assert _finish(api, started) == "COMPLETED"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM articles").fetchone() == (7,)
            assert con.execute("SELECT count(*), max(kind) FROM alerts").fetchone() == (
                1, "first")
            assert con.execute("SELECT status FROM runs").fetchall() == [("ok",)]
        # A shard deployment's run passes its shard to the flow: it polls only its feeds.
        from newswatch.config import load_config
        from tasks.shards import shard_of

        own = sum(shard_of(f.url, 2) == 0 for f in load_config(cfg).feeds if f.enabled)
        started = _prefect(env, "deployment", "run", "ingest/ingest-shard-0",
                           "--param", f"config_path={cfg}", "--param", "all_feeds=true")
        assert _finish(api, started) == "COMPLETED"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("SELECT status, feeds_polled FROM runs ORDER BY started_at"
                               ).fetchall() == [("ok", 3), ("ok", own)]
    finally:
        for p in (worker, server):
            if p and p.poll() is None:
                os.killpg(p.pid, signal.SIGINT)  # a worker stops cleanly on SIGINT
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
