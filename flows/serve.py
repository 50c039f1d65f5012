"""Serve the deployments in one process: `newswatch serve`. The same schedule as prefect.yaml,
for users who do not run a Prefect server and worker."""

from __future__ import annotations

from datetime import timedelta

from prefect import serve

from flows.ingest import ingest

INGEST_EVERY = timedelta(minutes=15)  # the design's polling period; feeds rarely change faster


def serve_all(config_path: str) -> None:
    deployment = ingest.to_deployment(
        name="ingest",
        interval=INGEST_EVERY,
        parameters={"config_path": config_path},
        concurrency_limit=1,  # one writer: a run that would overlap the previous one waits
    )
    # Without pause_on_shutdown=False, Ctrl-C leaves the deployment paused on the server.
    serve(deployment, pause_on_shutdown=False)
