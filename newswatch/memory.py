"""The run process's allocators: fewer glibc arenas; DuckDB's and Arrow's give back what they
free.

glibc gives each thread that allocates its own arena (up to 8 per core), and memory freed in
one arena serves only the threads that allocate there. A run's process has many threads (the
event loop, the thread storing a chunk, Prefect's server, DuckDB's): what one stage freed is
not reused by the next stage's thread, and the process keeps more than it holds. Two arenas
(two cores' worth of threads allocating at once), measured with bench/day_bench.py, one run
each, same day: 12 polls (--articles 7500 --polls 12), the run process 633–692 → 601–663 MB
a poll, poll times the same; the scaled day (--articles 60000), the process tree's peak
1,064 → 1,004 MB at the highest (median 1,007 → 960), the run process 666 → 744 MB → 645 →
694 (median of the first and last 10 polls).
"""

from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8  # glibc's mallopt parameter number
ARENAS = 2  # see above: fewer arenas, less kept; two so two cores' threads seldom queue


def cap_malloc_arenas() -> bool:
    """Before the process starts its threads; True where the allocator is glibc's."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    return bool(mallopt is not None and mallopt(M_ARENA_MAX, ARENAS))


# DuckDB allocates through its own jemalloc, which keeps freed pages for up to a second (its
# decay) before it gives them back; a run's stages free and allocate far faster than that (a
# chunk's writes, checkpoint and queries in a few seconds, beside the next chunk's pages), so
# the run process held more than it used. Arrow's default pool (mimalloc) keeps freed pages
# too; its system pool allocates from glibc, in the arenas above. Measured side by side,
# bench/extract_bench.py --run-only --sizes 2000, alternated, two runs each (2026-12-07): the
# run process peaked 520 and 520 MB against 563 and 562 (the tree 802/803 against 824/830),
# DuckDB alone 540, Arrow alone 548; the scaled day's highest poll 1,000 -> 938 MB. The price
# is CPU in DuckDB's stages (load, stories): a 10,000-page backlog beside the code before it,
# 132.8 run-process CPU-seconds against 123.5, 52.9 pages/s against 55.6 (README: memory is
# the limit a small machine hits; throughput keeps its margin).
DUCKDB_JEMALLOC = "dirty_decay_ms:0,muzzy_decay_ms:0"


def lean_duckdb() -> None:
    """Before duckdb is first imported: its jemalloc reads DUCKDB_JE_MALLOC_CONF as the module
    loads, and not after. A setting of the user's own wins."""
    os.environ.setdefault("DUCKDB_JE_MALLOC_CONF", DUCKDB_JEMALLOC)


def lean_arrow() -> None:
    """Arrow allocates from glibc (in the arenas above), not mimalloc. Called where the
    warehouse first imports pyarrow (warehouse/db.py), not before: the config imports the
    warehouse package, and an extraction worker that imports the run's main module (the CLI)
    with it would pay ~80 ms and ~20 MB for an Arrow it never uses."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
