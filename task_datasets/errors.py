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


class LeakError(TaskDatasetError):
    """The splits a spec asks for would share time or groups between train and test: nothing is written."""


class GateRefusedError(TaskDatasetError):
    """A source partition failed (or was never judged by) the quality gate's error-severity checks."""

    def __init__(self, dataset: str, version: int, partition: str, why: str) -> None:
        self.dataset, self.version, self.partition = dataset, version, partition
        super().__init__(
            f"{dataset} v{version} partition {partition}: {why}; refusing to build from it. Fix the partition and "
            "re-run the gate (plantdata run), then publish a new release"
        )


class UnknownDatasetError(TaskDatasetError):
    def __init__(self, name: str, version: int | None = None) -> None:
        what = f"{name} v{version}" if version is not None else name
        super().__init__(f"task dataset {what} not found; list them with `plantdata dataset list`")
