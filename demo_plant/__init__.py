"""The embedded demo plant: a seeded, deterministic generator of one factory's raw exports.

`generate(out_dir)` writes the asset register, historian, MES, alarm, quality and CMMS exports of a
physically plausible plant (with injected faults and deliberately planted export defects) and, apart
from them, the ground truth under `ground_truth/`.
"""

from demo_plant.generator import DemoPlant, generate

__all__ = ["DemoPlant", "generate"]
