"""The run's Prefect API: with PREFECT_API_URL unset, a temporary server of newswatch's own —
Prefect's server never imported into the run's process, the flow's run reported to the
server, and the server gone when the process ends."""

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
import json, sys
from prefect import flow
import flows.prefect_api as pa
from flows.prefect_api import prefect_api

@flow(name="hello-temporary")
def hello() -> int:
    return 42

with prefect_api() as api:
    result = hello()
    server_imported = sorted(m for m in ("prefect.server.api.server", "fastapi", "sqlalchemy")
                             if m in sys.modules)
    from prefect.client.orchestration import get_client
    with get_client(sync_client=True) as client:
        runs = [(r.name is not None, r.state_type.value) for r in client.read_flow_runs()]
with prefect_api() as again:  # a second run of the process reuses the server
    pass
print(json.dumps({"temporary": api.temporary, "url": api.url, "same": again.url == api.url,
                  "result": result, "runs": runs, "imported": server_imported,
                  "server_pid": pa._server.pid}))
"""


def test_a_temporary_server_of_our_own_keeps_prefects_server_out_of_the_run(
        tmp_path: Path) -> None:
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
    assert out["imported"] == []
    with pytest.raises(ProcessLookupError):  # stopped and reaped at exit
        os.kill(out["server_pid"], 0)


def test_a_configured_server_is_used_as_it_is() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.prefect_api import PrefectApi, prefect_api

    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4200/api"}), \
            prefect_api() as api:
        assert api == PrefectApi("http://127.0.0.1:4200/api", temporary=False)
