"""The raw line count against a plain reading of its definition, for any bytes cut into any chunks."""

from __future__ import annotations

import itertools
import random

import pytest

from ingest.raw_lines import RawLines, count_lines


def _by_definition(content: bytes) -> RawLines:
    """Every '\\n' ends a line; what follows the last one is a line if anything is there. A line is empty when it
    holds nothing or only '\\r'."""
    lines = content.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    empty = [number for number, line in enumerate(lines, start=1) if line in (b"", b"\r")]
    return RawLines(len(lines), empty, len(empty))


def _chunks(content: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(1, len(content)), k=min(len(content) - 1, rng.randint(0, 6)))) if content else []
    edges = [0, *cuts, len(content)]
    return [content[a:b] for a, b in itertools.pairwise(edges)]


@pytest.mark.parametrize("seed", range(300))
def test_the_count_matches_the_definition_whatever_the_bytes_and_chunks(seed: int) -> None:
    rng = random.Random(seed)
    content = bytes(rng.choice(b"ab,\n\r\n") for _ in range(rng.randint(0, 40)))
    expected = _by_definition(content)
    counted = count_lines(_chunks(content, rng))
    assert (counted.physical, counted.empty, counted.empty_count) == (
        expected.physical,
        expected.empty,
        expected.empty_count,
    ), content


def test_an_empty_line_across_a_chunk_boundary_is_found() -> None:
    counted = count_lines([b"a,1\n", b"\r\nb,2\n"])
    assert (counted.physical, counted.empty) == (3, [2])
    counted = count_lines([b"a,1\n\r", b"\nb,2"])
    assert (counted.physical, counted.empty) == (3, [2])
