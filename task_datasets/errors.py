"""Errors of task datasets, rooted in the project's one error."""

from __future__ import annotations

from config.errors import PlantdataError


class TaskDatasetError(PlantdataError):
    """A task dataset cannot be specified, built, documented or read."""


class DocumentError(TaskDatasetError):
    """A version's datasheet or Croissant file cannot be written; the message names the file, the key and the fix."""

    def __init__(self, where: str, problem: str, fix: str) -> None:
        self.where, self.problem, self.fix = where, problem, fix
        super().__init__(f"{where}: {problem}. Fix: {fix}")


class ReaderError(TaskDatasetError):
    """A version cannot be loaded with the reader asked for; the message names the version folder and the fix."""

    def __init__(self, version_dir: str, problem: str, fix: str) -> None:
        self.version_dir, self.problem, self.fix = version_dir, problem, fix
        super().__init__(f"{version_dir}: {problem}. Fix: {fix}")
