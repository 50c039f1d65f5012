"""Extraction on a Dask cluster through Prefect's DaskTaskRunner (`[extract] runner = "dask"`).

Pages go to the cluster in batches of `[extract] dask_batch`, one Prefect task run per batch
(never one per URL: each task run costs a few ms and ~20 KB of server rows). The ingest flow
hands pages over one by one as they download; a batch leaves when it is full or when no page
has joined it for LINGER_S, so extraction still overlaps fetching. Each worker runs the same
`extract_job` as the process pool, so the extractions are the same.

`dask_address = ""` starts a `distributed.LocalCluster` of `[extract] workers` processes on
127.0.0.1 for the run; otherwise the runner connects to that scheduler, whose workers need
newswatch installed and PREFECT_API_URL reachable (they report their task runs to Prefect).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

from newswatch.config import Config
from tasks import stage
from tasks.pagetext import PageText, extract_job

Job = tuple[str, bytes, int, str | None, tuple[int, int] | None, bool]

LINGER_S = 0.2  # a part batch waits this long for more pages: ~4 pages arrive meanwhile


def extract_batch(jobs: list[Job]) -> list[PageText]:
    """What a Dask worker runs: a batch of pages to their texts, in order."""
    return [extract_job(j) for j in jobs]


# The task wraps extract_batch itself (no wrapper function of its own): a worker finds the
# function by its module and name when it unpickles the task. The runner takes the Prefect
# task (`.task`), not the stage's quoting caller.
extract_batch_task = stage("extract-batch")(extract_batch).task


def prefect_api() -> str:
    """The Prefect API the workers report to: PREFECT_API_URL, or the temporary server this
    process runs (a worker would otherwise start a temporary server of its own, ~10 s)."""
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    if api:
        return str(api)
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start()  # already running in a flow: this only finds it
    return str(server.api_url)


class DaskRunnerError(RuntimeError):
    """A Dask cluster that cannot serve this run, with what to do about it."""


def start_runner(cfg: Config, workers: int) -> Any:
    """A started DaskTaskRunner: connected to `dask_address`, or on a new LocalCluster."""
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner

    logging.getLogger("distributed").setLevel(logging.WARNING)  # not its start-up chatter
    address = cfg.extract.dask_address
    if address:
        if not PREFECT_API_URL.value():
            raise DaskRunnerError(
                f"{cfg.path}: [extract] dask_address = {address!r} needs a Prefect server the "
                f"cluster's workers can reach, but PREFECT_API_URL is not set (this run's "
                f"temporary server listens on 127.0.0.1 only). Start one (`prefect server "
                f"start`) and set PREFECT_API_URL, or set dask_address = \"\" for a "
                f"LocalCluster.")
        runner = DaskTaskRunner(address=address)
    else:
        runner = DaskTaskRunner(cluster_kwargs={
            "n_workers": workers, "threads_per_worker": 1,  # trafilatura holds the GIL
            "processes": True, "host": "127.0.0.1", "dashboard_address": ":0",
            "silence_logs": logging.ERROR,
            "env": {"PREFECT_API_URL": prefect_api()},
        })
    runner.__enter__()
    try:
        runner.client  # noqa: B018 - starts the cluster (or connects) now, not at the first page
    except BaseException:
        runner.__exit__(None, None, None)
        raise
    return runner


class DaskBatcher:
    """Pages handed over one at a time, extracted on the cluster a batch at a time."""

    def __init__(self, runner: Any, batch: int) -> None:
        self.runner = runner
        self.batch = batch
        self.pending: list[tuple[Job, asyncio.Future[PageText]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.sent: set[asyncio.Task[None]] = set()

    def run(self, jobs: list[Job]) -> list[PageText]:
        """A whole batch at once (re-extraction, tests), in order; blocks."""
        futures = [contextvars.copy_context().run(self._submit, jobs[i:i + self.batch])
                   for i in range(0, len(jobs), self.batch)]
        return [t for f in futures for t in f.result()]

    def _submit(self, jobs: list[Job]) -> Any:
        """One batch to the cluster. Called in a copy of the caller's context: the stage's own
        task run is left out of it, since Prefect would ship its parameters (the run's fetcher
        and this batcher, neither picklable nor the batch's business) to the worker."""
        from prefect.context import TaskRunContext

        TaskRunContext.__var__.set(None)  # type: ignore[arg-type]
        return self.runner.submit(extract_batch_task, {"jobs": jobs})

    async def extract(self, job: Job) -> PageText:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[PageText] = loop.create_future()
        self.pending.append((job, done))
        if len(self.pending) >= self.batch:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(LINGER_S, self.flush)
        return await done

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            sent = asyncio.ensure_future(self._send(batch))
            self.sent.add(sent)  # keep a reference until it is done
            sent.add_done_callback(self.sent.discard)

    async def _send(self, batch: list[tuple[Job, asyncio.Future[PageText]]]) -> None:
        jobs = [job for job, _ in batch]
        try:
            # Submitted and waited for in a thread: the event loop keeps fetching meanwhile.
            texts = await asyncio.to_thread(lambda: self._submit(jobs).result())
        except asyncio.CancelledError:
            for _, done in batch:
                done.cancel()
            raise
        except Exception as e:  # the cluster failed the batch: its pages' awaiters raise it
            for _, done in batch:
                if not done.done():
                    done.set_exception(e)
            return
        for (_, done), text in zip(batch, texts, strict=True):
            if not done.done():
                done.set_result(text)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for _, done in self.pending:
            done.cancel()
        self.pending = []
        self.runner.__exit__(None, None, None)
