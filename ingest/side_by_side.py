"""Many small requests to object storage at once: each mostly waits on the network, so a few in flight make reading
or publishing a source's files take seconds instead of minutes. On a folder they run one after the other, as ever."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from config.layout import Layout

IN_FLIGHT = 16  # requests at once to the object store
T = TypeVar("T")
R = TypeVar("R")


def each(layout: Layout, work: Callable[[T], R], items: list[T]) -> list[R]:
    """`work` of every item, results in the items' order; side by side when the layout's store is remote."""
    if not layout.remote or len(items) < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(IN_FLIGHT, len(items))) as pool:
        return list(pool.map(work, items))
