"""The pipeline's stages: plain typed functions, each with a thin Prefect task wrapper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def stage(name: str) -> Callable[[Callable[..., Any]], Any]:
    """A Prefect task for one pipeline stage. Stages are not cached: each run's inputs are
    new, and hashing a batch of pages to look for a cache hit would cost more than it saves.
    Prefect is imported here, not at the top: an extraction worker imports `tasks.pagetext`,
    and with it this package, and must not pay for Prefect."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE

    return task(name=name, cache_policy=NO_CACHE, persist_result=False)
