"""The digest flow: per topic, one summary of the stories alerted since its last digest
(see tasks/digest.py). Scheduled daily by prefect.yaml and `newswatch serve`."""

from __future__ import annotations

from prefect import flow

from newswatch.config import load_config
from tasks.digest import DigestResult, digest_task
from warehouse import db

LOCK_WAIT_S = 600.0  # an ingest run takes seconds to minutes; the digest can wait for it


@flow(name="digest", log_prints=False)
async def digest(config_path: str | None = None) -> DigestResult:
    cfg = load_config(config_path)
    with db.writer_lock(cfg.warehouse_path, wait_s=LOCK_WAIT_S):
        return digest_task(cfg)
