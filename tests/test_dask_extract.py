"""`[extract] runner = "dask"`: the extract stage through Prefect's DaskTaskRunner on a real
distributed.LocalCluster of 2 worker processes gives the same extractions, field by field, as
the process pool, in batches of `dask_batch` pages per task run (Prefect's test harness)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newswatch.config import Config, ConfigError, load_config
from tasks.extract import Extractor
from tasks.models import Entry, Extraction, FetchResult, PageFetch
from tests.conftest import FIXTURE, ROOT, fixture_expectations, write_config
from tests.corpus import corpus_dir

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

BATCH = 4  # small, so a few pages make several task runs


def _page(url: str, body: bytes) -> PageFetch:
    entry = Entry(url, "http://127.0.0.1/feed", None, "Feed title", None,
                  datetime(2025, 2, 9, tzinfo=UTC), "Outlet")
    return PageFetch(entry, FetchResult(url, "ok", "http_200", datetime.now(UTC), body=body))


def _config(tmp: Path, runner: str) -> Config:
    extra = (f'[extract]\nrunner = "{runner}"\nworkers = 2\npool_threshold = 1\n'
             f"dask_batch = {BATCH}\n")
    return load_config(write_config(tmp, [], extra=extra))


@pytest.fixture(scope="module")
def dask_extractor(tmp_path_factory: pytest.TempPathFactory,
                   prefect_harness: None) -> Iterator[Extractor]:
    cfg = _config(tmp_path_factory.mktemp("dask"), "dask")
    with Extractor(cfg, 100) as ex:
        assert ex.pool is None and ex.dask is not None
        assert len(ex.dask.runner.client.scheduler_info()["workers"]) == 2
        yield ex


def _pool(tmp: Path, pages: list[PageFetch]) -> list[Extraction]:
    with Extractor(_config(tmp, "processes"), len(pages)) as ex:
        assert ex.pool is not None and ex.dask is None
        return ex.extract_all(pages)


def _batches_run(expect: int = -1) -> int:
    """Task runs named extract-batch on the server; Prefect records them from events, a
    moment after they ran, so wait (up to 20 s) for `expect` of them."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    deadline = time.monotonic() + 20
    with get_client(sync_client=True) as client:
        while True:
            n = len(client.read_task_runs(task_run_filter=TaskRunFilter(
                name=TaskRunFilterName(like_="extract-batch"))))
            if n >= expect or time.monotonic() > deadline:
                return n
            time.sleep(0.2)


def _same(got: list[Extraction], want: list[Extraction]) -> None:
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        for f in fields(Extraction):
            if f.name != "elapsed_ms":
                assert getattr(a, f.name) == getattr(b, f.name), (a.url, f.name)
        assert replace(a, elapsed_ms=0) == replace(b, elapsed_ms=0)


def test_fixture_pages_extract_alike_on_dask_and_the_process_pool(
        dask_extractor: Extractor, tmp_path: Path) -> None:
    pages = [_page(f"http://127.0.0.1/{p}", (FIXTURE / p).read_bytes())
             for p in sorted(fixture_expectations())]
    before = _batches_run()
    got = dask_extractor.extract_all(pages)
    batches = math.ceil(len(pages) / BATCH)
    assert _batches_run(before + batches) - before == batches  # batches, not one per URL
    want = _pool(tmp_path, pages)
    assert [x.status for x in want] == ["ok"] * len(pages)
    _same(got, want)

    async def one_by_one() -> list[Extraction]:  # as the flow hands pages over
        return list(await asyncio.gather(*(dask_extractor.extract(p) for p in pages)))

    _same(asyncio.run(one_by_one()), want)


def test_real_pages_extract_alike_on_dask_and_the_process_pool(
        dask_extractor: Extractor, tmp_path: Path) -> None:
    root = corpus_dir("extraction", "readability-pages", "test", "test-pages")
    pages = [_page(f"http://example.com/{d.name}", (d / "source.html").read_bytes())
             for d in sorted(root.iterdir())[:40]]
    got = dask_extractor.extract_all(pages)
    want = _pool(tmp_path, pages)
    assert sum(x.status == "ok" for x in want) >= 30
    _same(got, want)


def test_an_ingest_run_extracts_on_dask_as_pages_arrive(tmp_path: Path) -> None:
    """The flow end to end with runner = "dask": the same articles as with the process pool."""
    from flows.ingest import ingest
    from tests.simulator import news_web
    from warehouse import db

    runs = {}
    with news_web(hosts=2) as web:
        feeds = [{"name": f"wire{i}", "url": web.add_feed(h, f"wire{i}", 15)}
                 for i, h in enumerate(web.hosts)]
        for runner in ("dask", "processes"):
            (tmp_path / runner).mkdir()
            extra = (f'[extract]\nrunner = "{runner}"\nworkers = 2\npool_threshold = 1\n'
                     f"dask_batch = {BATCH}\n")
            cfg = write_config(tmp_path / runner, feeds, extra=extra)
            before = _batches_run()
            run = asyncio.run(ingest(str(cfg)))
            assert (run.pages_fetched, run.extracted, run.articles_new) == (30, 30, 30)
            if runner == "dask":  # pages went in batches: at least 30/4, far fewer than 30
                assert math.ceil(30 / BATCH) <= _batches_run(before + 8) - before < 30
            with db.connect(tmp_path / runner / "nw.duckdb", read_only=True) as con:
                runs[runner] = con.execute(
                    "SELECT url, title, text, published_at, outlet, content_hash FROM articles "
                    "ORDER BY url").fetchall()
    assert len(runs["dask"]) == 30
    assert runs["dask"] == runs["processes"]


def test_a_runner_that_is_not_one_names_the_two(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], extra='[extract]\nrunner = "ray"\n')
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    line = cfg.read_text().splitlines().index('runner = "ray"') + 1
    assert str(e.value) == (
        f"{cfg}, line {line}: extract.runner = 'ray' is not a runner. Write runner = "
        f"\"processes\" (this machine's cores, the default) or runner = \"dask\" (a Dask "
        f"cluster: [extract] dask_address).")


def test_a_remote_cluster_needs_a_prefect_server(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tasks.dask_extract import DaskRunnerError

    cfg = load_config(write_config(
        tmp_path, [], extra='[extract]\nrunner = "dask"\ndask_address = "tcp://127.0.0.1:1"\n'
                            "pool_threshold = 1\n"))
    with temporary_settings(updates={PREFECT_API_URL: None}), \
            pytest.raises(DaskRunnerError) as e, Extractor(cfg, 10):
        pass
    assert str(e.value) == (
        f"{cfg.path}: [extract] dask_address = 'tcp://127.0.0.1:1' needs a Prefect server the "
        f"cluster's workers can reach, but PREFECT_API_URL is not set (this run's temporary "
        f"server listens on 127.0.0.1 only). Start one (`prefect server start`) and set "
        f"PREFECT_API_URL, or set dask_address = \"\" for a LocalCluster.")
    assert ROOT.exists()
