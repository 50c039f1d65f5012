"""Shards: the feeds split over N ingest workers by host, so each host's politeness (one
request at a time, a pause between them) stays inside one worker. A shard is written "i/N".

The hash is SHA-1 of the lower-cased host name: the same in every process, machine and Python
version (Python's own hash() is salted per process). Local (file://) feeds hash by their path.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardError(ValueError):
    """A shard written wrong; the message says how to write it."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, feed_url: str) -> bool:
        return shard_of(feed_url, self.count) == self.index


def parse_shard(text: str) -> Shard:
    m = _SHARD.match(text)
    if not m:
        raise ShardError(f"--shard {text}: write it as INDEX/COUNT, e.g. 0/2 (the first of two "
                         f"shards).")
    index, count = int(m[1]), int(m[2])
    if count < 1:
        raise ShardError(f"--shard {text}: the count must be at least 1, e.g. 0/2.")
    if index >= count:
        raise ShardError(f"--shard {text}: the shard index must be below the count "
                         f"(0 to {count - 1}), e.g. {count - 1}/{count}.")
    return Shard(index, count)


def shard_of(feed_url: str, count: int) -> int:
    parts = urlsplit(feed_url)
    key = (parts.hostname or parts.path).lower()
    return int.from_bytes(hashlib.sha1(key.encode()).digest()[:8], "big") % count
