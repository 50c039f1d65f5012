"""Near-duplicates: the same report at another outlet with another template, caption, headline,
a trim or an extra paragraph.

Candidates come from MinHash LSH (MinHash over word 5-shingles, cut into bands)
plus one extra band keyed on the opening words, because a syndicated trim keeps the top of the
story while losing much of its body. The bands live in DuckDB (lsh_buckets), so a lookup is a
join that works across runs and restarts. A candidate is confirmed by containment: the share of
the shorter text's shingles found in the longer one. Containment, not Jaccard, because a copy
cut to half its length is still a copy (Jaccard 0.5, containment 1.0).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

from tasks.topics import tokens

SHINGLE = 5  # words per shingle: long enough that unrelated reports rarely share one
LEAD_BAND = -1  # the band number of the opening-words key
LEAD_WORDS = 40  # the opening words a trim keeps: about the first two sentences


@dataclass(frozen=True)
class Fingerprint:
    """`packed`: each 5-word shingle's 8-byte hash, sorted, in one bytes object. A worker
    sends it back and a run holds a chunk's of them; as a set of Python ints it cost ~110 KB
    an article in the run process, and 0.4 ms a page to build, pickle and unpickle. Only an
    article with a copy to confirm needs the set (`shingles`)."""

    packed: bytes
    buckets: tuple[tuple[int, int], ...]  # (band, bucket)

    @cached_property
    def shingles(self) -> frozenset[int]:
        return _as_ints(self.packed)


def _h64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def _shingle_digests(words: list[str]) -> set[bytes]:
    """Each 5-word shingle's 8-byte hash (blake2b of its words joined by spaces), hashed as
    slices of the whole text's bytes rather than joined anew for each shingle."""
    if len(words) < SHINGLE:
        return {hashlib.blake2b(" ".join(words).encode(), digest_size=8).digest()} if words \
            else set()
    data = " ".join(words).encode()
    ends = list(itertools.accumulate(len(w.encode()) + 1 for w in words))  # past each space
    starts = [0, *ends[:-1]]
    b2 = hashlib.blake2b
    return {b2(data[starts[i]:ends[i + SHINGLE - 1] - 1], digest_size=8).digest()
            for i in range(len(words) - SHINGLE + 1)}


def _as_ints(packed: bytes) -> frozenset[int]:
    """Shingle hashes packed as 8-byte big-endian integers, as a set."""
    return frozenset(np.frombuffer(packed, dtype=">i8").tolist())


def shingles(text: str, words: list[str] | None = None) -> frozenset[int]:
    """5-word shingles of the text, hashed; `words`: its tokens when the caller has them."""
    return _as_ints(b"".join(_shingle_digests(tokens(text) if words is None else words)))


# The MinHash is datasketch 2.0's (scheme "affine32", seed 1, sha1_hash32 of each shingle's
# 8 bytes), computed here in numpy: the buckets stored in lsh_buckets stay the same, and the
# extraction workers need not import datasketch (and through it scipy: ~1 s and ~60 MB each).
# tests/test_stories.py checks the values against datasketch itself.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35),
         np.uint32(16))


@cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.RandomState(1)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a.reshape(1, -1), b.reshape(1, -1)


def minhash(shingle_hashes: frozenset[int], num_perm: int) -> np.ndarray:
    """The MinHash values (uint64, as datasketch stores them) of a set of shingle hashes."""
    return _minhash({s.to_bytes(8, "big", signed=True) for s in shingle_hashes}, num_perm)


def _minhash(digests: set[bytes], num_perm: int) -> np.ndarray:
    if not digests:
        return np.full(num_perm, (1 << 32) - 1, dtype=np.uint64)
    sha1 = hashlib.sha1
    # sha1_hash32: the first 4 bytes of each SHA-1 (20 bytes: five little-endian uint32s)
    hv = np.frombuffer(b"".join([sha1(d).digest() for d in digests]),
                       dtype="<u4").reshape(-1, 5)[:, 0].copy()
    s1, m1, s2, m2, s3 = _FMIX
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    hv = hv ^ (hv >> s3)
    a, b = _permutations(num_perm)
    # Permutation by permutation (rows), each over every shingle: the minimum of a contiguous
    # row, twice as fast as the column minima of the (shingles x permutations) layout.
    values = np.multiply.outer(a[0], hv)
    values += b[0][:, None]
    return values.min(axis=1).astype(np.uint64)


def fingerprint(text: str, num_perm: int, bands: int,
                words: list[str] | None = None) -> Fingerprint:
    words = tokens(text) if words is None else words
    digests = _shingle_digests(words)
    packed = np.sort(np.frombuffer(b"".join(digests), dtype=">i8")).tobytes()
    rows = num_perm // bands
    values = _minhash(digests, num_perm)
    buckets = [(b, _h64(values[b * rows:(b + 1) * rows].tobytes())) for b in range(bands)]
    lead = " ".join(words[:LEAD_WORDS])
    buckets.append((LEAD_BAND, _h64(lead.encode())))
    return Fingerprint(packed, tuple(buckets))


def containment(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
