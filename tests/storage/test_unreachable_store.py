"""An object store that cannot be reached is a clear error naming the variables to check, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_an_unreachable_catalog_store_names_what_to_check(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PLANTDATA_HOME": str(tmp_path / "home"),
        "PLANTDATA_CACHE": str(tmp_path / "cache"),
        "PLANTDATA_CATALOG": "s3://plant/catalog",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",  # nothing listens on port 1
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    plantdata = Path(sys.executable).with_name("plantdata")
    command = [str(plantdata), "catalog", "list"]
    done = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=120)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, said
    assert "Traceback" not in said
    assert "http://127.0.0.1:1/plant/catalog/CURRENT" in said
    assert "AWS_ENDPOINT_URL" in said and "PLANTDATA_CATALOG" in said
