"""Active-learning batches: size, pushed keys, strata, uncertainty first, a seeded random share."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from annotation.selection import SelectionError, choose_batch
from annotation.tasks import Release, TaskItem

RELEASE = Release("wo", 1, Path("/nowhere"))


def item(key: str, stratum: str, uncertainty: float) -> TaskItem:
    return TaskItem(key, {}, RELEASE, {"id": key}, stratum, "work_order", uncertainty=uncertainty)


def pool() -> list[TaskItem]:
    """A noisy machine A with 20 very uncertain items; C and B with 5 items each, less uncertain (C more than B)."""
    items = [item(f"a{i:02d}", "A", 0.9 - i / 1000) for i in range(20)]
    items += [item(f"b{i}", "B", 0.3 + i / 100) for i in range(5)]
    items += [item(f"c{i}", "C", 0.5 + i / 100) for i in range(5)]
    return items


def test_size_and_pushed_keys() -> None:
    pushed = {f"a{i:02d}" for i in range(10)} | {"b4"}
    batch = choose_batch(pool(), size=8, already_pushed=pushed, seed=0)
    assert len(batch) == 8 and len({t.key for t in batch}) == 8
    assert not {t.key for t in batch} & pushed
    everything_left = choose_batch(pool(), size=100, already_pushed=pushed, seed=0)
    assert sorted(t.key for t in everything_left) == sorted(t.key for t in pool() if t.key not in pushed)
    assert choose_batch(pool(), size=0, already_pushed=set(), seed=0) == []
    assert choose_batch(pool() + pool(), size=100, already_pushed=set(), seed=0) == choose_batch(
        pool(), size=100, already_pushed=set(), seed=0
    )  # a key offered twice counts once


def test_uncertain_part_spreads_across_strata_most_uncertain_first() -> None:
    batch = choose_batch(pool(), size=6, already_pushed=set(), random_share=0, seed=0)
    assert [t.key for t in batch] == ["a00", "c4", "b4", "a01", "c3", "b3"]
    assert Counter(t.stratum for t in batch) == {"A": 2, "B": 2, "C": 2}
    assert all(t.extra["selection"] == "uncertain" for t in batch)


def test_prefers_uncertain_items_within_a_stratum() -> None:
    items = [item(f"k{i}", "only", u) for i, u in enumerate([0.1, 0.8, 0.3, 0.95, 0.5, 0.7])]
    batch = choose_batch(items, size=3, already_pushed=set(), random_share=0, seed=0)
    assert [t.uncertainty for t in batch] == [0.95, 0.8, 0.7]


def test_random_share() -> None:
    batch = choose_batch(pool(), size=10, already_pushed=set(), random_share=0.2, seed=3)
    how = [t.extra["selection"] for t in batch]
    assert how == ["uncertain"] * 8 + ["random"] * 2
    uncertain = {t.key for t in batch[:8]}
    assert uncertain == {t.key for t in choose_batch(pool(), size=8, already_pushed=set(), random_share=0, seed=9)}
    draws = {tuple(t.key for t in choose_batch(pool(), size=10, already_pushed=set(), seed=s)[8:]) for s in range(10)}
    assert len(draws) > 1  # the seed decides the random part
    only_random = choose_batch(pool(), size=5, already_pushed=set(), random_share=1, seed=1)
    assert [t.extra["selection"] for t in only_random] == ["random"] * 5


def test_deterministic_for_a_seed_whatever_the_input_order() -> None:
    shuffled = pool()
    random.Random(7).shuffle(shuffled)
    first = choose_batch(pool(), size=12, already_pushed={"b0"}, seed=42)
    assert first == choose_batch(shuffled, size=12, already_pushed={"b0"}, seed=42)
    assert first == choose_batch(pool(), size=12, already_pushed={"b0"}, seed=42)


def test_bad_settings() -> None:
    with pytest.raises(SelectionError, match="random_share"):
        choose_batch(pool(), size=3, already_pushed=set(), random_share=1.5, seed=0)
    with pytest.raises(SelectionError, match="size"):
        choose_batch(pool(), size=-1, already_pushed=set(), seed=0)
