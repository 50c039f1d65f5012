"""`newswatch reextract`: extraction again over the raw archive, fetching nothing.

Each archived article's response is read back and extracted with today's trafilatura and
settings. Changed text replaces the stored text (and its content hash; `updated_at` says when);
a page that no longer yields an article keeps its old text. Every attempt is logged in
extract_log with run_id `reextract-…` and a fixed reason: reextracted_changed,
reextracted_same, or the extractor's own reason when it found nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from newswatch.config import Config
from tasks.archive import read_record
from tasks.dedup import content_hash
from tasks.extract import extract_page
from warehouse import db


@dataclass
class Reextraction:
    archived: int = 0
    changed: int = 0
    unchanged: int = 0
    no_article: int = 0  # extraction finds nothing now: the old text is kept
    missing: int = 0  # the WARC file is gone (retention) or unreadable


def reextract(cfg: Config) -> Reextraction:
    run_id = f"reextract-{uuid.uuid4().hex[:6]}"
    out = Reextraction()
    changed, log = [], []
    for row in db.archived_articles(cfg.warehouse_path):
        out.archived += 1
        rec = read_record(cfg.archive_dir, row["warc_file"], row["warc_offset"])
        if rec is None:
            out.missing += 1
            continue
        now = datetime.now(UTC)
        page = extract_page(rec.url, rec.body, cfg.extract.min_article_chars, rec.content_type)
        if page.status != "ok" or not page.text:
            out.no_article += 1
            reason = page.reason
        elif page.text == row["text"] and (page.title or row["title"]) == row["title"]:
            out.unchanged += 1
            reason = "reextracted_same"
        else:
            out.changed += 1
            reason = "reextracted_changed"
            changed.append({"article_id": row["article_id"], "title": page.title,
                            "text": page.text, "content_hash": content_hash(page.text),
                            "at": now})
        log.append({"run_id": run_id, "extracted_at": now, "entry_url": rec.url,
                    "status": page.status, "reason": reason, "chars": len(page.text or ""),
                    "elapsed_ms": page.elapsed_ms})
    db.record_reextraction(cfg.warehouse_path, changed, log)
    return out
