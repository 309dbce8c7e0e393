"""Named, independent random streams derived from one seed."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """Return a generator that depends only on `seed` and `name`.

    Each part of the plant draws from its own stream, so changing one part never shifts another.
    """
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(name.encode("utf-8"))])
