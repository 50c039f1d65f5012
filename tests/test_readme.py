"""The README's promises: two set-up commands, and CI runs the second."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def first_code_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\w*\n(.*?)```", text, re.S)
    assert block
    return block.group(1).splitlines()


def test_first_code_block_holds_exactly_the_two_commands() -> None:
    run, test = first_code_block()
    assert run.endswith("newswatch run")
    assert test.endswith("pytest -q")
    assert run.startswith("python3 -m venv .venv && ") and test.startswith("python3 -m venv .venv")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "awk '/^```/ { block++; next } block == 1' README.md | sed -n 2p" in ci
    assert 'bash -c "$test_cmd"' in ci


def test_layout_table_names_real_paths() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in re.findall(r"^\| `([\w/.]+)` \|", text, re.M):
        assert (ROOT / path).exists(), path
