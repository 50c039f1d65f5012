"""Serve the deployments in one process: `newswatch serve`. The same schedules as
prefect.yaml, for users who do not run a Prefect worker.

An ingest starts at once, then keeps the 15-minute rhythm: waiting for the first tick of the
interval (up to 15 minutes) looks to a new user as if nothing works. Prefect's temporary
server (used when PREFECT_API_URL names no server) runs no scheduler — its services are off
in that mode — so there this process makes each deployment's next scheduled run itself, as a
server's scheduler would. With a configured server, the server's scheduler does it.

With `--shards N` (N > 1) it serves N ingest deployments, ingest-shard-i-of-N with the
parameter shard "i/N", each every 15 minutes and one run at a time, in this one process: the
runner starts every flow run as a process of its own, so N shards ingest in parallel on N
processes, sharing one Prefect server (a temporary one costs 5-15 s and its own database;
N `newswatch serve` processes would start N of them) and stopped by one Ctrl-C. Each shard
keeps its own rhythm and its own limit of one run: a slow shard delays no other.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from flows.digest import digest
from flows.ingest import ingest
from flows.maintenance import maintenance

INGEST_EVERY = timedelta(minutes=15)  # the design's polling period; feeds rarely change faster
DIGEST_CRON = "0 7 * * *"  # daily, before the working day in Europe
MAINTENANCE_CRON = "30 3 * * *"  # daily, when the fewest people query the warehouse
SCHEDULE_EVERY_S = 60  # how often the temporary server's stand-in scheduler looks ahead


def ingest_name(index: int, count: int) -> str:
    """The ingest deployment of shard index/count; plain "ingest" when there is one shard."""
    return "ingest" if count == 1 else f"ingest-shard-{index}-of-{count}"


def deployments(config_path: str, shards: int = 1) -> list:
    params = {"config_path": config_path}
    ingests = [
        # concurrency 1: a run that would overlap the shard's previous one waits
        ingest.to_deployment(name=ingest_name(i, shards), interval=INGEST_EVERY,
                             parameters=params if shards == 1 else {**params,
                                                                    "shard": f"{i}/{shards}"},
                             concurrency_limit=1)
        for i in range(shards)
    ]
    return [
        *ingests,
        digest.to_deployment(name="digest", cron=DIGEST_CRON, parameters=params,
                             concurrency_limit=1),
        maintenance.to_deployment(name="maintenance", cron=MAINTENANCE_CRON,
                                  parameters=params, concurrency_limit=1),
    ]


async def schedule_next_runs(deployment_ids: list[UUID], now: datetime | None = None
                             ) -> list[Any]:
    """For each active schedule of each deployment, make sure its next run after `now`
    exists (once: the idempotency key is the slot). Returns the runs made or found."""
    from prefect.client.orchestration import get_client
    from prefect.server.schemas import schedules as server_schedules
    from prefect.states import Scheduled

    now = now or datetime.now(UTC)
    runs = []
    async with get_client() as client:
        for dep_id in deployment_ids:
            dep = await client.read_deployment(dep_id)
            for ds in dep.schedules:
                if not ds.active:
                    continue
                kind = type(ds.schedule).__name__  # IntervalSchedule, CronSchedule, RRule…
                sched = getattr(server_schedules, kind).model_validate(
                    ds.schedule.model_dump())
                [slot] = await sched.get_dates(n=1, start=now)
                runs.append(await client.create_flow_run_from_deployment(
                    dep_id, state=Scheduled(scheduled_time=slot),
                    idempotency_key=f"newswatch serve {dep_id} {ds.id} {slot.isoformat()}"))
    return runs


async def _keep_schedules(deployment_ids: list[UUID]) -> None:
    while True:
        await schedule_next_runs(deployment_ids)
        await asyncio.sleep(SCHEDULE_EVERY_S)


async def _serve(served: list) -> None:
    from prefect.client.orchestration import get_client
    from prefect.runner import Runner
    from prefect.settings import PREFECT_API_URL

    # Without pause_on_shutdown=False, Ctrl-C leaves the deployments paused on the server.
    # The limit lets every deployment run at once: the shards' ingests, digest, maintenance.
    runner = Runner(pause_on_shutdown=False, limit=len(served))
    ids = {}
    for d in served:
        ids[d.name] = await runner.aadd_deployment(d)
    ingests = [name for name in ids if name.startswith("ingest")]
    async with get_client() as client:
        for name in ingests:  # now: the first ingest of each shard
            await client.create_flow_run_from_deployment(ids[name])
    server = PREFECT_API_URL.value()
    what = ("an ingest" if len(ingests) == 1
            else f"{len(ingests)} shard ingests ({', '.join(ingests)}) in parallel")
    print(f"newswatch serve: {what} now, then every {INGEST_EVERY.seconds // 60} minutes; "
          f"the digest daily at 07:00 UTC, maintenance at 03:30 UTC. Prefect: "
          f"{server or 'a temporary server, kept by this process'}. Ctrl-C stops.",
          flush=True)
    keeper = None if server else asyncio.create_task(_keep_schedules(list(ids.values())))
    try:
        await runner.start()
    finally:
        if keeper is not None:
            keeper.cancel()


def serve_all(config_path: str, shards: int = 1) -> None:
    from prefect.exceptions import TerminationSignal

    with contextlib.suppress(KeyboardInterrupt, TerminationSignal):  # the way to stop it
        asyncio.run(_serve(deployments(config_path, shards)))  # made outside the loop: sync API
