"""When Label Studio does not answer, the loop says so with an error a retry policy retries."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from annotation.loop import Loop, pull_labels
from annotation.projects import AnnotationFile, ProjectSpec
from annotation.settings import LabelStudioSettings
from config.errors import PlantdataError
from config.layout import Layout
from tests.annotation.conftest import free_port


def test_a_pull_against_a_server_that_is_down_is_retryable_and_says_what_to_do(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = LabelStudioSettings(
        admin_email="admin@plant.example",
        admin_password=secrets.token_urlsafe(16),
        admin_token=secrets.token_hex(20),
        data_dir=tmp_path / "ls",
        url=url,
        venv=tmp_path / "venv",
    )
    spec = ProjectSpec(name="qi", kind="inspection_review", dataset="inspections")
    loop = Loop(settings, Layout(tmp_path / "root"), AnnotationFile(projects=[spec]))
    with pytest.raises(PlantdataError) as raised:
        pull_labels(loop, "qi")
    assert raised.value.retryable
    assert url in str(raised.value) and "make labelstudio" in str(raised.value)
    assert not (tmp_path / "root" / "annotation" / "qi" / "state.json").exists()
