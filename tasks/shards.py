"""Shards: the feeds split by host over N ingest workers, so that one host's politeness (at most
`per_host_concurrency` open requests, `per_host_interval_s` apart) is kept by one worker.

A feed's shard is the first 8 bytes of the SHA-1 of its registrable domain (bbc.co.uk for
feeds.bbc.co.uk; an IP address as it is), as a big-endian number, modulo N: the same in every
process, machine and Python version (Python's own hash() of a string is salted per process).
Local feeds (file://, no host) all fall in one shard. A shard is written "i/N", 0 <= i < N;
"0/1" is every feed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from tasks.canonical import site

SHARD_FORM = re.compile(r"\s*(-?\d+)\s*/\s*(-?\d+)\s*")


class ShardError(ValueError):
    """A shard written wrong; the message names what was given and the fix."""


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, url: str) -> bool:
        """Whether the feed (or page) at `url` belongs to this shard."""
        return self.count == 1 or shard_of(url, self.count) == self.index


EVERY_FEED = Shard(0, 1)


def shard_of(url: str, count: int) -> int:
    """The shard, of `count`, that the host of `url` belongs to."""
    digest = hashlib.sha1(site(url).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str, label: str = "--shard") -> Shard:
    """"i/N" → Shard(i, N). `label` names where the value came from, for the error."""
    m = SHARD_FORM.fullmatch(text or "")
    if not m:
        raise ShardError(f"{label} {text}: write a shard as i/N, its index counted from 0 and "
                         f"the count of shards, e.g. 0/2 (the first of two)")
    index, count = int(m[1]), int(m[2])
    if count < 1:
        raise ShardError(f"{label} {text}: the count of shards must be at least 1, e.g. 0/1 "
                         f"(every feed)")
    if index < 0:
        raise ShardError(f"{label} {text}: the shard index counts from 0, e.g. 0/{count}")
    if index >= count:
        raise ShardError(f"{label} {text}: the shard index must be below the count, e.g. "
                         f"{count - 1}/{count}")
    return Shard(index, count)
