"""The run process's allocators (newswatch/memory.py), each read back in a fresh process: glibc's
arenas (malloc_info) with six threads allocating at once; DuckDB's jemalloc decay (mallctl) and
Arrow's default pool after importing our modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

THREADS = """
import ctypes, sys, threading
sys.path.insert(0, {root!r})
from newswatch.memory import cap_malloc_arenas
capped = cap_malloc_arenas() if {cap} else None
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
start = threading.Barrier(6)
kept = []
def work():
    start.wait()
    kept.extend(libc.malloc(4096) for _ in range(200))
threads = [threading.Thread(target=work) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
f = libc.fopen({info!r}.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(f))
libc.fclose(ctypes.c_void_p(f))
print(capped, open({info!r}).read().count("<heap nr="))
"""


def arenas(tmp_path: Path, cap: bool) -> str:
    code = THREADS.format(root=str(ROOT), cap=cap, info=str(tmp_path / f"info-{cap}.xml"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_a_run_process_allocates_in_two_arenas_however_many_threads(tmp_path: Path) -> None:
    assert arenas(tmp_path, cap=True) == "True 2"
    capped, heaps = arenas(tmp_path, cap=False).split()
    assert capped == "None" and int(heaps) > 2  # glibc's own: an arena a thread (7 here)


ALLOCATORS = """
import ctypes, sys
sys.path.insert(0, {root!r})
import {module}
{then}
import _duckdb, pyarrow as pa
mallctl = getattr(ctypes.CDLL(_duckdb.__file__), "duckdb_je_mallctl", None)
if mallctl is None:
    print("no jemalloc")
    raise SystemExit
decay = {{}}
for name in ("opt.dirty_decay_ms", "opt.muzzy_decay_ms"):
    v, n = ctypes.c_ssize_t(), ctypes.c_size_t(ctypes.sizeof(ctypes.c_ssize_t))
    assert mallctl(name.encode(), ctypes.byref(v), ctypes.byref(n), None, ctypes.c_size_t(0)) == 0
    decay[name] = v.value
print(decay["opt.dirty_decay_ms"], decay["opt.muzzy_decay_ms"],
      pa.default_memory_pool().backend_name)
"""


def allocators(module: str, then: str = "import warehouse.db", **env: str) -> str:
    """`then`: what runs after `module` is imported; by default what a process does before it
    first uses DuckDB and Arrow, whatever it imported before."""
    code = ALLOCATORS.format(root=str(ROOT), module=module, then=then)
    run_env = {k: v for k, v in os.environ.items() if k != "DUCKDB_JE_MALLOC_CONF"} | env
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=run_env).stdout.strip()
    if out == "no jemalloc":
        pytest.skip("this DuckDB build has no jemalloc (its macOS, Windows and musl builds)")
    return out


def test_a_bare_duckdb_import_keeps_duckdbs_own_second_of_decay() -> None:
    assert allocators("duckdb", then="") == "1000 1000 mimalloc"  # what the tests below change


@pytest.mark.parametrize("module", ["newswatch.cli", "flows.ingest", "warehouse.db"])
def test_duckdb_and_arrow_give_back_what_they_free_whichever_module_comes_first(
        module: str) -> None:
    """Arrow's pool is set as the warehouse imports Arrow (an extraction worker that imports
    the CLI imports no Arrow at all); DuckDB's jemalloc is set before any module imports it."""
    assert allocators(module) == "0 0 system"


def test_a_users_own_jemalloc_setting_wins() -> None:
    mine = allocators("warehouse.db", DUCKDB_JE_MALLOC_CONF="dirty_decay_ms:250")
    assert mine == "250 1000 system"  # all of ours is replaced: muzzy is DuckDB's again
