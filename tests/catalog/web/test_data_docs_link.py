"""The dataset page links the newest run's Data Docs page, by the run time GX puts in its path (GX rewrites every
page at each build, so the files' times do not tell)."""

from __future__ import annotations

import os
from pathlib import Path

from catalog.web.service import CatalogService


def test_the_newest_run_is_found_by_its_run_time(tmp_path: Path) -> None:
    site = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site"
    older = site / "validations" / "hist" / "run-a" / "20240330T101500.000000Z" / "batch.html"
    newer = site / "validations" / "hist" / "run-b" / "20240331T080000.000000Z" / "batch.html"
    for page in (newer, older):  # the older run's page is written last
        page.parent.mkdir(parents=True)
        page.write_text("<html></html>")
    os.utime(newer, (1_000_000, 1_000_000))
    service = CatalogService(tmp_path)
    assert service.data_docs("hist") == str(newer.relative_to(site))
    assert service.data_docs("other") is None
