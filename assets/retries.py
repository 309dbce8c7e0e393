"""Retrying what a retry can fix: a file still being written or moved, a lock held, a server down.

Every plantdata error says whether a retry can help (`PlantdataError.retryable`). Dagster's own retry policy
retries every failure; this retries only the transient ones, with exponential backoff, and lets terminal ones
(a wrong configuration, rows that do not add up) fail at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from config.errors import PlantdataError

MAX_RETRIES = 3
FIRST_WAIT_S = 2.0


@contextmanager
def retry_transient(context: dg.AssetExecutionContext) -> Iterator[None]:
    """Turn a retryable plantdata error raised inside into a Dagster retry after 2, 4, 8 s; others pass through."""
    try:
        yield
    except PlantdataError as exc:
        if not exc.retryable:
            raise
        wait = FIRST_WAIT_S * 2**context.retry_number
        context.log.warning(f"transient: {exc}; retrying in {wait:.0f} s ({context.retry_number + 1}/{MAX_RETRIES})")
        raise dg.RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from exc
