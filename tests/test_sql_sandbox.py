"""`newswatch sql` and db.sandboxed_reader: a query sees the warehouse and nothing else.

Each escape DuckDB allows on a plain read-only connection is tried, through the CLI and through
the function a web query box calls, with the exact error a user gets."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import write_config
from tests.test_cli import cli
from warehouse import db

DENIED = "Permission Error: Cannot access file \"{}\" - file system operations are disabled " \
         "by configuration"
LOCKED = "Invalid Input Error: Cannot change configuration option \"{}\" - the configuration " \
         "has been locked"


@pytest.fixture()
def warehouse(tmp_path: Path) -> tuple[Path, Path]:
    cfg = write_config(tmp_path, [])
    db.migrate(tmp_path / "nw.duckdb")
    (tmp_path / "secret.txt").write_text("the owner's secret", encoding="utf-8")
    return cfg, tmp_path


def first_line(stderr: str) -> str:
    return stderr.splitlines()[0]


def test_copy_to_a_file_is_refused(warehouse) -> None:
    cfg, tmp = warehouse
    out = tmp / "stolen.csv"
    proc = cli("--config", str(cfg), "sql", f"COPY (SELECT * FROM articles) TO '{out}'")
    assert proc.returncode == 1
    assert proc.stderr == f"error: {DENIED.format(out)}\n"
    assert not out.exists()


def test_reading_another_file_is_refused(warehouse) -> None:
    cfg, tmp = warehouse
    for query, target in [("SELECT * FROM read_text('/etc/passwd')", "/etc/passwd"),
                          (f"SELECT * FROM read_csv('{tmp}/secret.txt')", f"{tmp}/secret.txt"),
                          ("SELECT * FROM glob('/etc/*')", "/etc/*"),
                          ("SELECT * FROM read_json('http://127.0.0.1:9/x')",
                           "http://127.0.0.1:9/x")]:
        proc = cli("--config", str(cfg), "sql", query)
        assert proc.returncode == 1, query
        assert first_line(proc.stderr) == f"error: {DENIED.format(target)}", query


def test_attach_is_refused(warehouse) -> None:
    cfg, tmp = warehouse
    other = tmp / "other.duckdb"
    proc = cli("--config", str(cfg), "sql", f"ATTACH '{other}' AS o")
    assert proc.returncode == 1
    assert proc.stderr == f"error: {DENIED.format(other)}\n"
    assert not other.exists()


def test_install_and_load_are_refused(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "sql", "LOAD fts")
    assert proc.stderr == ("error: Permission Error: Loading external extensions is disabled "
                           "through configuration\n")
    proc = cli("--config", str(cfg), "sql", "INSTALL fts")
    assert proc.returncode == 1
    assert proc.stderr.startswith('error: Permission Error: Cannot access directory "')
    assert proc.stderr.endswith('" - file system operations are disabled by configuration\n')


def test_set_cannot_undo_the_sandbox(warehouse) -> None:
    cfg, tmp = warehouse
    for query, option in [("SET enable_external_access = true", "enable_external_access"),
                          ("RESET enable_external_access", "enable_external_access"),
                          ("SET GLOBAL enable_external_access = true", "enable_external_access"),
                          ("SET lock_configuration = false", "lock_configuration")]:
        proc = cli("--config", str(cfg), "sql", query)
        assert proc.returncode == 1, query
        assert proc.stderr == f"error: {LOCKED.format(option)}\n", query
    # Nor in the same call, ahead of the escape.
    proc = cli("--config", str(cfg), "sql",
               f"SET enable_external_access = true; COPY (SELECT 1) TO '{tmp}/x.csv'")
    assert proc.stderr == f"error: {LOCKED.format('enable_external_access')}\n"
    assert not (tmp / "x.csv").exists()


def test_the_warehouse_itself_still_answers(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "sql", "--format", "csv",
               "SELECT count(*) AS n, current_setting('TimeZone') AS tz FROM articles")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "n,tz\n0,UTC\n", "")


def test_allow_files_is_the_owners_opt_in(warehouse) -> None:
    cfg, tmp = warehouse
    proc = cli("--config", str(cfg), "sql", "--allow-files", "--format", "csv",
               f"SELECT content FROM read_text('{tmp}/secret.txt')")
    assert (proc.returncode, proc.stdout) == (0, "content\nthe owner's secret\n"), proc.stderr
    out = tmp / "copy.csv"
    proc = cli("--config", str(cfg), "sql", "--allow-files", f"COPY (SELECT 42 AS n) TO '{out}'")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == "n\n42\n"


def test_sandboxed_reader_is_the_same_sandbox_for_any_caller(warehouse) -> None:
    _, tmp = warehouse
    with db.sandboxed_reader(tmp / "nw.duckdb", memory_limit="256MB") as con:
        assert con.execute("SELECT count(*) FROM feeds").fetchone() == (0,)
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == ("244.1 MiB",)
        with pytest.raises(duckdb.PermissionException) as e:
            con.execute("SELECT * FROM read_text('/etc/passwd')")
        assert str(e.value).splitlines()[0] == DENIED.format("/etc/passwd")
        with pytest.raises(duckdb.InvalidInputException) as e:
            con.execute("SET memory_limit = '64GB'")
        assert str(e.value) == LOCKED.format("memory_limit")
        with pytest.raises(duckdb.InvalidInputException) as e:
            con.execute("CREATE TABLE x AS SELECT 1")
        assert str(e.value) == ('Invalid Input Error: Cannot execute statement of type "CREATE" '
                                'on database "nw" which is attached in read-only mode!')
