"""Shards: feeds split over workers by host, with a hash that is the same everywhere."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tasks.shards import Shard, ShardError, parse_shard, shard_of
from tests.conftest import ROOT, write_config


def test_a_host_is_always_in_the_same_shard() -> None:
    # Fixed values: SHA-1 of the host, so every process and machine agrees.
    assert [shard_of(u, 4) for u in ["https://www.reuters.com/world/",
                                     "http://feeds.bbci.co.uk/news/rss.xml",
                                     "https://rss.nytimes.com/x",
                                     "http://127.0.0.10:8000/f.xml"]] == [3, 0, 0, 0]
    # Port, path and case do not move a host.
    assert shard_of("https://WWW.Reuters.com:443/a", 4) == shard_of("http://www.reuters.com/b", 4)
    spread = Counter(shard_of(f"http://h{i}.example/", 4) for i in range(1000))
    assert spread == {1: 266, 0: 257, 3: 248, 2: 229}


def test_parse_shard() -> None:
    assert parse_shard("1/3") == Shard(1, 3)
    assert str(parse_shard(" 0 / 2 ")) == "0/2"
    assert Shard(1, 2).holds("https://www.reuters.com/world/") is True  # 3 mod 4 → odd → 1


@pytest.mark.parametrize(("text", "message"), [
    ("3/2", "--shard 3/2: the shard index must be below the count (0 to 1), e.g. 1/2."),
    ("1-2", "--shard 1-2: write it as INDEX/COUNT, e.g. 0/2 (the first of two shards)."),
    ("0/0", "--shard 0/0: the count must be at least 1, e.g. 0/2."),
])
def test_a_bad_shard_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ShardError) as e:
        parse_shard(text)
    assert str(e.value) == message


def test_run_refuses_a_bad_shard_before_doing_anything(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [])
    out = subprocess.run([sys.executable, "-m", "newswatch.cli", "--config", str(cfg), "run",
                          "--shard", "2/2"], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert (out.returncode, out.stdout, out.stderr) == (
        2, "", "error: --shard 2/2: the shard index must be below the count (0 to 1), "
               "e.g. 1/2.\n")
    assert not (tmp_path / "nw.duckdb").exists()
