"""The pipeline's stages: plain typed functions, each with a thin Prefect task wrapper."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def stage(name: str) -> Callable[[Callable[..., Any]], Any]:
    """A Prefect task for one pipeline stage, called with its arguments as they are.

    Prefect walks every argument of a task call twice (to resolve futures and to record
    inputs), field by field: a run's config with 2,000 feeds cost tens of ms a call, a chunk's
    pages more. A stage takes no futures, so each argument goes to Prefect quoted and reaches
    the function untouched. Stages are not cached: each run's inputs are new, and hashing a
    batch of pages to look for a cache hit would cost more than it saves. Prefect is imported
    here, not at the top: an extraction worker imports `tasks.pagetext`, and with it this
    package, and must not pay for Prefect."""
    from prefect import task
    from prefect.cache_policies import NO_CACHE
    from prefect.utilities.annotations import quote

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        prefect_task = task(name=name, cache_policy=NO_CACHE, persist_result=False)(fn)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            return prefect_task(*map(quote, args), **{k: quote(v) for k, v in kwargs.items()})

        call.task = prefect_task  # type: ignore[attr-defined]
        return call

    return wrap
