"""What the test servers share: a free loopback port, and a clear error when a server's binary is missing."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the server binds it right after; the kernel does not hand it out again
    at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require(binary: Path, package: str) -> None:
    """A missing server is an error, never a skip: `make test` installs them."""
    if not os.access(binary, os.X_OK):
        raise RuntimeError(
            f"{binary} is missing: run .ci/install-servers (it installs Debian's {package}), then the tests again"
        )
