"""The run process's allocator cap (newswatch/memory.py), seen in glibc's own account of its
arenas (malloc_info), in a fresh process: six threads allocating at once."""

from __future__ import annotations

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
