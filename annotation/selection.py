"""Which tasks to send to the experts next: the most uncertain, spread over strata, plus a random share.

Active learning: experts' time goes where the current model is least sure. Round-robin over strata (equipment,
characteristic) keeps one noisy machine from taking the whole batch. The random share is a simple random sample
of what is left: it finds what the model is confidently wrong about and gives an unbiased sample to measure the
model on (`extra["selection"]` says which way each task was chosen).

The loop: build candidates with the current model (`work_order_tasks(..., model=...)`, `inspection_tasks`),
`choose_batch`, push; when the batch's labels come back, train a new model on them, rebuild the candidates with
it (so `uncertainty` is the new model's), and choose the next batch with the keys pushed so far excluded.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Iterable

from annotation.tasks import TaskItem
from config.errors import PlantdataError

UNCERTAIN, RANDOM = "uncertain", "random"


class SelectionError(PlantdataError):
    """A batch cannot be chosen with these settings (the message names the setting and its allowed range)."""


def _round_robin(groups: Iterable[list[TaskItem]], count: int) -> list[TaskItem]:
    """Take one item from each group in turn (groups and items in the order given) until `count` are taken."""
    queues = [list(g) for g in groups]
    taken: list[TaskItem] = []
    depth = 0
    while len(taken) < count and any(depth < len(q) for q in queues):
        for queue in queues:
            if depth < len(queue) and len(taken) < count:
                taken.append(queue[depth])
        depth += 1
    return taken


def _tagged(items: list[TaskItem], how: str) -> list[TaskItem]:
    return [dataclasses.replace(item, extra={**item.extra, "selection": how}) for item in items]


def choose_batch(
    candidates: list[TaskItem], *, size: int, already_pushed: set[str], random_share: float = 0.2, seed: int
) -> list[TaskItem]:
    """Up to `size` tasks not yet pushed: the most uncertain first, then a random share.

    `round(size * random_share)` tasks are drawn at random (seeded) from those left after the uncertain part;
    the rest are the most uncertain, taken round-robin over strata: each stratum's most uncertain task, strata
    ordered by it, then each stratum's second, and so on. Ties break on the key, and candidates repeating a key
    count once, so the same candidates and seed give the same batch in the same order, whatever their input
    order. Uncertain tasks come first in the result, then random ones.

    Raises:
        SelectionError: `size` negative or `random_share` outside [0, 1].
    """
    if size < 0:
        raise SelectionError(f"size must be >= 0, got {size}")
    if not 0 <= random_share <= 1:
        raise SelectionError(f"random_share must be in [0, 1], got {random_share}")
    fresh: dict[str, TaskItem] = {}
    for item in sorted(candidates, key=lambda c: c.key):
        if item.key not in already_pushed:
            fresh.setdefault(item.key, item)
    n_random = min(round(size * random_share), len(fresh))
    n_uncertain = min(size - n_random, len(fresh))

    by_stratum: dict[str, list[TaskItem]] = defaultdict(list)
    for item in sorted(fresh.values(), key=lambda c: (-c.uncertainty, c.key)):
        by_stratum[item.stratum].append(item)
    strata = sorted(by_stratum, key=lambda s: (-by_stratum[s][0].uncertainty, s))
    uncertain = _round_robin((by_stratum[s] for s in strata), n_uncertain)

    chosen = {item.key for item in uncertain}
    rest = [item for key, item in fresh.items() if key not in chosen]
    drawn = random.Random(seed).sample(rest, min(n_random, len(rest)))
    return _tagged(uncertain, UNCERTAIN) + _tagged(drawn, RANDOM)
