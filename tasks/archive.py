"""The raw archive: every article page fetched is kept as a WARC response record (warcio), one
gzip member per record, in `[archive] dir/YYYY-MM-DD/<run_id>.warc.gz`; an article points at its
record by file and offset. `newswatch reextract` reads the records back and runs extraction again
without fetching anything, for when trafilatura improves.

The body stored is the one extraction saw: already decompressed, so the record drops the
Content-Encoding, Transfer-Encoding and Content-Length headers the server sent with it and
states the stored length instead.
"""

from __future__ import annotations

import asyncio
import io
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newswatch.config import Config
from tasks.models import PageFetch

DROPPED = {"content-encoding", "transfer-encoding", "content-length"}
# warcio gzips at level 9. This runs on the flow's core while the workers extract on the
# others: level 3 takes a third of level 6's time for 13 % more bytes (the readability pages:
# 4.0 vs 11.4 ms a page on a loaded 2-core machine; 18.6 vs 16.5 % of the HTML's size).
GZIP_LEVEL = 3


def _gzip_member(data: bytes) -> bytes:
    z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return z.compress(data) + z.flush()


@dataclass(frozen=True)
class Stored:
    file: str  # relative to the archive folder
    offset: int


class Archive:
    """A run's WARC file, written page by page as the pages arrive: a page's body is let go
    once it is archived and extracted, instead of being held until its chunk is stored (a
    chunk of 200 real pages is ~40 MB of bodies, and the next chunk's arrive meanwhile).

    The records are written in one thread, in turn (one writer, one buffer: `write` is not for
    two threads at once), so offsets follow one another and a page's gzip (~2 ms) runs beside
    the event loop's downloads. Each record is appended and the file closed before its place
    is returned: a place the warehouse stores was written (as far as the OS is concerned)
    before the load that stores it."""

    def __init__(self, cfg: Config, run_id: str) -> None:
        self.root = cfg.archive_dir
        self.run_id = run_id
        self._buf = io.BytesIO()
        self._writer = WARCWriter(self._buf, gzip=False)  # each record its own member below
        self._thread: ThreadPoolExecutor | None = None

    def write(self, page: PageFetch) -> Stored | None:
        """Append the page's response record; where it is (None: nothing to archive)."""
        r = page.fetch
        if not (r.ok and r.http_status):
            return None
        rel = f"{datetime.now(UTC).date().isoformat()}/{self.run_id}.warc.gz"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        headers = [(k, v) for k, v in r.headers.items() if k not in DROPPED]
        headers.append(("content-length", str(len(r.body))))
        http = StatusAndHeaders(f"{r.http_status} -", headers, protocol="HTTP/1.1")
        record = self._writer.create_warc_record(
            r.final_url or r.url, "response", payload=io.BytesIO(r.body), http_headers=http,
            warc_headers_dict={"WARC-Date": r.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.write_record(record)
        member = _gzip_member(self._buf.getvalue())
        with path.open("ab") as f:
            offset = f.tell()
            f.write(member)
        return Stored(rel, offset)

    async def store(self, page: PageFetch) -> Stored | None:
        """`write` in the archive's thread."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="archive")
        return await asyncio.get_running_loop().run_in_executor(self._thread, self.write, page)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Record:
    url: str
    body: bytes
    content_type: str | None


def read_record(root: Path, file: str, offset: int) -> Record | None:
    """The response stored at `offset` of `file`, or None when the file is gone."""
    path = root / file
    if not path.is_file():
        return None
    with path.open("rb") as f:
        f.seek(offset)
        for rec in ArchiveIterator(f):
            if rec.rec_type == "response":
                return Record(rec.rec_headers.get_header("WARC-Target-URI"),
                              rec.content_stream().read(),
                              rec.http_headers.get_header("content-type"))
            break
    return None
