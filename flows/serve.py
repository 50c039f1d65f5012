"""Serve the deployments in one process: `newswatch serve`. The same schedules as
prefect.yaml, for users who do not run a Prefect server and worker."""

from __future__ import annotations

from datetime import timedelta

from prefect import serve

from flows.digest import digest
from flows.ingest import ingest
from flows.maintenance import maintenance

INGEST_EVERY = timedelta(minutes=15)  # the design's polling period; feeds rarely change faster
DIGEST_CRON = "0 7 * * *"  # daily, before the working day in Europe
MAINTENANCE_CRON = "30 3 * * *"  # daily, when the fewest people query the warehouse


def deployments(config_path: str) -> list:
    params = {"config_path": config_path}
    return [
        # concurrency 1: one writer; a run that would overlap the previous one waits
        ingest.to_deployment(name="ingest", interval=INGEST_EVERY, parameters=params,
                             concurrency_limit=1),
        digest.to_deployment(name="digest", cron=DIGEST_CRON, parameters=params,
                             concurrency_limit=1),
        maintenance.to_deployment(name="maintenance", cron=MAINTENANCE_CRON,
                                  parameters=params, concurrency_limit=1),
    ]


def serve_all(config_path: str) -> None:
    # Without pause_on_shutdown=False, Ctrl-C leaves the deployments paused on the server.
    serve(*deployments(config_path), pause_on_shutdown=False)
