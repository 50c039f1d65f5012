"""The maintenance flow: checkpoint the warehouse and apply the raw archive's retention
(see tasks/maintenance.py). Scheduled daily by prefect.yaml and `newswatch serve`."""

from __future__ import annotations

from prefect import flow

from newswatch.config import load_config
from tasks.maintenance import MaintenanceResult, maintenance_task
from warehouse import db

LOCK_WAIT_S = 600.0  # an ingest run takes seconds to minutes; maintenance can wait for it


@flow(name="maintenance", log_prints=False)
async def maintenance(config_path: str | None = None) -> MaintenanceResult:
    cfg = load_config(config_path)
    with db.writer_lock(cfg.warehouse_path, wait_s=LOCK_WAIT_S):
        return maintenance_task(cfg)
