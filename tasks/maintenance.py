"""Maintenance: fold DuckDB's write-ahead log into the file, and delete raw archive folders
(one per day, `YYYY-MM-DD`) older than `[archive] retention_days`, unlinking their records
from the articles that pointed at them."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from newswatch.config import Config
from tasks import stage
from warehouse import db


@dataclass
class MaintenanceResult:
    archive_days_deleted: list[str] = field(default_factory=list)
    archive_bytes_freed: int = 0
    records_unlinked: int = 0


def expired_days(cfg: Config, today: date) -> list[str]:
    cutoff = today - timedelta(days=cfg.archive.retention_days)
    root = cfg.archive_dir
    if not root.is_dir():
        return []
    days = []
    for d in sorted(root.iterdir()):
        try:
            day = date.fromisoformat(d.name)
        except ValueError:
            continue  # not ours: leave it
        if d.is_dir() and day < cutoff:
            days.append(d.name)
    return days


def maintain(cfg: Config, now: datetime | None = None) -> MaintenanceResult:
    now = now or datetime.now(UTC)
    result = MaintenanceResult(archive_days_deleted=expired_days(cfg, now.date()))
    if result.archive_days_deleted:
        result.records_unlinked = db.unlink_archive_days(cfg.warehouse_path,
                                                         result.archive_days_deleted)
    for day in result.archive_days_deleted:
        folder = cfg.archive_dir / day
        result.archive_bytes_freed += sum(f.stat().st_size for f in folder.rglob("*")
                                          if f.is_file())
        shutil.rmtree(folder)
    db.checkpoint(cfg.warehouse_path)
    return result


@stage("maintenance")
def maintenance_task(cfg: Config) -> MaintenanceResult:
    return maintain(cfg)
