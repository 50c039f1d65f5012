"""Near-duplicates: the same report at another outlet with another template, caption, headline,
a trim or an extra paragraph.

Candidates come from MinHash LSH (datasketch's MinHash over word 5-shingles, cut into bands)
plus one extra band keyed on the opening words, because a syndicated trim keeps the top of the
story while losing much of its body. The bands live in DuckDB (lsh_buckets), so a lookup is a
join that works across runs and restarts. A candidate is confirmed by containment: the share of
the shorter text's shingles found in the longer one. Containment, not Jaccard, because a copy
cut to half its length is still a copy (Jaccard 0.5, containment 1.0).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

import numpy as np
from datasketch import MinHash

from tasks.topics import tokens

SHINGLE = 5  # words per shingle: long enough that unrelated reports rarely share one
LEAD_BAND = -1  # the band number of the opening-words key
LEAD_WORDS = 40  # the opening words a trim keeps: about the first two sentences


@dataclass(frozen=True)
class Fingerprint:
    shingles: frozenset[int]
    buckets: tuple[tuple[int, int], ...]  # (band, bucket)


def _h64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def shingles(text: str) -> frozenset[int]:
    words = tokens(text)
    if len(words) < SHINGLE:
        return frozenset({_h64(" ".join(words).encode())}) if words else frozenset()
    return frozenset(_h64(" ".join(words[i:i + SHINGLE]).encode())
                     for i in range(len(words) - SHINGLE + 1))


@cache
def _template(num_perm: int) -> MinHash:
    return MinHash(num_perm=num_perm, seed=1)  # its permutations serve every article


def fingerprint(text: str, num_perm: int, bands: int) -> Fingerprint:
    sh = shingles(text)
    t = _template(num_perm)
    m = MinHash(num_perm=num_perm, seed=1, permutations=t.permutations, scheme=t.scheme)
    if sh:
        m.update_batch([s.to_bytes(8, "big", signed=True) for s in sh])
    rows = num_perm // bands
    values = np.asarray(m.hashvalues, dtype=np.uint64)
    buckets = [(b, _h64(values[b * rows:(b + 1) * rows].tobytes())) for b in range(bands)]
    lead = " ".join(tokens(text)[:LEAD_WORDS])
    buckets.append((LEAD_BAND, _h64(lead.encode())))
    return Fingerprint(sh, tuple(buckets))


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
