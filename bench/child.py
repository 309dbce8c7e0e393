"""Running one measurement in a child process, so its peak RSS is its own."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any


def run_child(module: str, *args: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run `python -m module args...` (in `env`, else this environment); its last stdout line is the JSON result."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        check=True,
        capture_output=True,
        text=True,
        env=None if env is None else dict(env),
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))
