"""Whether a process of this machine is still alive: how state that only this machine writes finds its dead owners."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while process `pid` exists (even if it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
