"""A throwaway PostgreSQL server for the DuckLake tests: Debian's `postgresql` package (which
`.ci/run` installs), `initdb` + `pg_ctl` in a temp folder on a free loopback port, stopped and
removed after. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def bin_dir() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists():
            return d
    return None


def missing() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None when it can."""
    if bin_dir() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin " \
               "(Debian's postgresql package; .ci/run installs it)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run PostgreSQL as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server(dbname: str = "lake") -> Iterator[str]:
    """Start a server; yield a libpq connection string to a fresh database `dbname`."""
    bins = bin_dir()
    assert bins is not None, missing()
    root = Path(tempfile.mkdtemp(prefix="nw-pg-"))
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(str(bins / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    run(str(bins / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
        f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")
    try:
        import psycopg

        admin = f"host=127.0.0.1 port={port} dbname=postgres user=postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(admin, autocommit=True) as con:
                    con.execute(f'CREATE DATABASE "{dbname}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"host=127.0.0.1 port={port} dbname={dbname} user=postgres"
    finally:
        subprocess.run([*as_user, str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
