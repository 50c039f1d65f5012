"""The run process's allocator: fewer glibc arenas.

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

M_ARENA_MAX = -8  # glibc's mallopt parameter number
ARENAS = 2  # see above: fewer arenas, less kept; two so two cores' threads seldom queue


def cap_malloc_arenas() -> bool:
    """Before the process starts its threads; True where the allocator is glibc's."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    return bool(mallopt is not None and mallopt(M_ARENA_MAX, ARENAS))
