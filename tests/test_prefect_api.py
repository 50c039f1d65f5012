"""The run's Prefect API: with PREFECT_API_URL unset, a temporary server of newswatch's own —
Prefect's server in a thread of the run's process (no second process), the flow's run reported
to it, and the server stopped at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SCRIPT = """
import json, os, sys, threading
from pathlib import Path
import httpx
from prefect import flow
import flows.prefect_api as pa
from flows.prefect_api import prefect_api

@flow(name="hello-temporary")
def hello() -> int:
    return 42

with prefect_api() as api:
    result = hello()
    from prefect.client.orchestration import get_client
    with get_client(sync_client=True) as client:
        runs = [(r.name is not None, r.state_type.value) for r in client.read_flow_runs()]
    threads = sorted(t.name for t in threading.enumerate() if t.name == "prefect-server")
    children = [c for t in Path(f"/proc/{os.getpid()}/task").iterdir()
                for c in (t / "children").read_text().split()]
with prefect_api() as again:  # a second run of the process reuses the server
    pass
pa._stop()  # what happens at exit
try:
    httpx.get(api.url + "/health", timeout=2)
    answered = True
except httpx.TransportError:
    answered = False
print(json.dumps({"temporary": api.temporary, "url": api.url, "same": again.url == api.url,
                  "result": result, "runs": runs, "threads": threads, "children": children,
                  "answers_after_stop": answered}))
"""


def test_a_temporary_server_runs_in_a_thread_of_the_run(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["temporary"] is True
    assert out["url"].startswith("http://127.0.0.1:") and out["url"].endswith("/api")
    assert out["same"] is True
    assert out["result"] == 42
    assert out["runs"] == [[True, "COMPLETED"]]
    assert out["threads"] == ["prefect-server"]
    assert out["children"] == []  # no server process beside the run
    assert out["answers_after_stop"] is False


def test_a_configured_server_is_used_as_it_is() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.prefect_api import PrefectApi, prefect_api

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4200/api"}), \
            prefect_api() as api:
        assert api == PrefectApi("http://127.0.0.1:4200/api", temporary=False)


EXITS = """
import time
from prefect import flow
from flows.prefect_api import prefect_api
from tasks import stage

@stage("noop")
def noop(x: int) -> int:
    return x

@flow(name="exits")
def three() -> list[int]:
    return [noop(i) for i in range(3)]

with prefect_api():
    three()
print(time.time(), flush=True)  # the script's last line: from here the process only exits
"""

READS = """
import json
from prefect import get_client
from flows.prefect_api import prefect_api

with prefect_api(), get_client(sync_client=True) as client:
    print(json.dumps({"flows": [r.state_type.value for r in client.read_flow_runs()],
                      "tasks": sorted(r.state_type.value for r in client.read_task_runs())}))
"""


def test_a_run_exits_at_once_with_its_runs_recorded(tmp_path: Path) -> None:
    """Stopped by a plain `atexit` function, the server could not stop (its task worker spun
    on the interpreter's closed thread pools) and the process spent STOP_WAIT_S (5 s) at a
    full core before it exited. Now it stops before the pools close, after Prefect's own
    services have sent it the run's last states: the next process reads them all."""
    import time

    import flows.prefect_api as pa

    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_LOGGING_LEVEL="WARNING",
               PREFECT_SERVER_ANALYTICS_ENABLED="false")
    ran = subprocess.run([sys.executable, "-c", EXITS], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    exiting = time.time() - float(ran.stdout.split()[-1])
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    assert exiting < pa.STOP_WAIT_S - 2.0, f"{exiting:.1f} s from the last line to the exit"
    read = subprocess.run([sys.executable, "-c", READS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout.strip().splitlines()[-1]) == {
        "flows": ["COMPLETED"], "tasks": ["COMPLETED", "COMPLETED", "COMPLETED"]}
