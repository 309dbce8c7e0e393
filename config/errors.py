"""The root of every error plantdata raises on purpose, and configuration errors.

One root (`PlantdataError`) for the whole project; every error carries structured fields and
says whether retrying can help, so Dagster retry policies and the CLI can act on it.
"""

from __future__ import annotations


class PlantdataError(Exception):
    """Root of every error plantdata raises on purpose."""

    retryable: bool = False


class ConfigError(PlantdataError):
    """A sources file is invalid; the message names the file, the key and the fix."""

    def __init__(self, file: str, key: str, problem: str, fix: str) -> None:
        self.file, self.key, self.problem, self.fix = file, key, problem, fix
        super().__init__(f"{file}: {key}: {problem}. Fix: {fix}")


class StorageError(PlantdataError):
    """A data root cannot be used: an unsupported URL, or an object store refusing a request."""
