"""Croissant 1.1 JSON-LD of a version: validates with mlcroissant, carries RAI and PROV-O fields, is reproducible."""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import mlcroissant as mlc
import pytest

from task_datasets import croissant
from task_datasets.croissant import croissant_type, validate, write_croissant
from task_datasets.errors import DocumentError
from tests.task_datasets.conftest import FACTS, ROWS, build_version

Version = tuple[Path, dict[str, Any]]


def test_croissant_validates_with_mlcroissant_without_warnings(version: Version) -> None:
    version_dir, manifest = version
    path = write_croissant(version_dir, manifest, FACTS)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    assert validate(document, str(path)) == []
    assert validate(path) == []  # the file as written, with its operation graph
    dataset = mlc.Dataset(jsonld=path)  # raises mlc.ValidationError on any error
    assert [rs.uuid for rs in dataset.metadata.record_sets] == ["train", "validation", "test"]


def test_one_file_object_and_record_set_per_split(version: Version) -> None:
    version_dir, manifest = version
    document = json.loads(write_croissant(version_dir, manifest, FACTS).read_text(encoding="utf-8"))
    objects = {o["@id"]: o for o in document["distribution"]}
    assert set(objects) == {f"data/{split}.parquet" for split in ROWS}
    for entry in manifest["files"]:
        obj = objects[entry["path"]]
        assert obj["contentUrl"] == entry["path"]  # relative: the version folder moves as a whole
        assert obj["sha256"] == entry["sha256"]
        assert obj["encodingFormat"] == "application/x-parquet"
    train = next(rs for rs in document["recordSet"] if rs["@id"] == "train")
    types = {f["name"]: f["dataType"] for f in train["field"]}
    assert types["vibration_rms"] == "cr:Float64"
    assert types["temperature_max"] == "cr:Float32"
    assert types["samples"] == "cr:Int32"
    assert types["window_start"] == "sc:DateTime"
    assert types["unit"] == "sc:Text"  # dictionary<values=string, ...>
    assert types["running"] == "sc:Boolean"
    assert types["fault_class"] == ["sc:Text", "cr:Label"]
    assert next(f for f in train["field"] if f["name"] == "window")["isArray"] is True
    assert train["key"] == {"@id": "train/window_id"}
    target = next(f for f in train["field"] if f["name"] == "fault_class")
    [annotation] = target["annotation"]  # data-level provenance: each row's label source
    assert annotation["equivalentProperty"] == "prov:wasAttributedTo"
    assert annotation["source"]["extract"] == {"column": "label_source"}


def test_rai_and_provenance_fields(version: Version) -> None:
    version_dir, manifest = version
    path = write_croissant(version_dir, manifest, FACTS)
    document = json.loads(path.read_text(encoding="utf-8"))
    personal = " ".join(document["rai:personalSensitiveInformation"])
    assert "No personal data" in personal and "technician names masked" in personal
    assert "Security grade 2" in personal
    assert "expert_consensus > work_orders > rule" in " ".join(document["rai:dataAnnotationProtocol"])
    assert document["rai:dataAnnotationAnalysis"] == [
        "labels_pump_windows v2: 3 annotator(s), agreement (Krippendorff's alpha) 0.812"
    ]
    assert "historian v3" in document["rai:dataCollection"] and "work_orders v2" in document["rai:dataCollection"]
    assert "adversarial validation AUC" in " ".join(document["rai:dataPreprocessingProtocol"])
    assert document["rai:dataBiases"][-1] == "Pumps P-1 and P-2 only in train."  # from facts
    assert document["rai:annotatorDemographics"] == ["Three maintenance technicians of the plant."]
    assert {d["@id"] for d in document["prov:wasDerivedFrom"]} == {
        "urn:plantdata:release:historian:v3",
        "urn:plantdata:release:work_orders:v2",
        "urn:plantdata:labels:pump_windows:v2",
    }
    used = {u["@id"] for u in document["prov:wasGeneratedBy"]["prov:used"]}
    assert "urn:plantdata:code:6f54382" in used
    assert document["license"] == "Apache-2.0" and document["version"] == "1.0.0"
    assert document["keywords"] == sorted(
        {"classification", "operation_maintenance", "time_series", "historian", "cmms"}
    )  # task, scenario, classification axes and source systems, once each
    # mlcroissant reads the RAI fields back from the file, so they are in the right namespace
    metadata = mlc.Dataset(jsonld=path).metadata
    assert metadata.personal_sensitive_information == document["rai:personalSensitiveInformation"]
    assert metadata.data_annotation_protocol == document["rai:dataAnnotationProtocol"]


def test_rewrite_gives_the_same_bytes(tmp_path: Path) -> None:
    first_dir, manifest = build_version(tmp_path / "a")
    second_dir, second_manifest = build_version(tmp_path / "b")
    assert manifest == second_manifest
    first = write_croissant(first_dir, manifest, FACTS).read_bytes()
    assert write_croissant(first_dir, manifest, FACTS).read_bytes() == first
    assert write_croissant(second_dir, second_manifest, FACTS).read_bytes() == first


def test_refuses_a_split_file_that_differs_from_the_manifest(version: Version) -> None:
    version_dir, manifest = version
    manifest["files"][0]["sha256"] = "0" * 64
    with pytest.raises(DocumentError, match=r"train\.parquet: its sha256 differs"):
        write_croissant(version_dir, manifest, FACTS)
    assert not (version_dir / "croissant.json").exists()


def test_refuses_a_column_type_croissant_cannot_describe(version: Version) -> None:
    version_dir, manifest = version
    manifest["schema"][0]["type"] = "duration[s]"
    with pytest.raises(DocumentError, match=r"column 'window_id'.*duration"):
        write_croissant(version_dir, manifest, FACTS)


def test_validate_reports_mlcroissant_errors(version: Version) -> None:
    version_dir, manifest = version
    document = json.loads(write_croissant(version_dir, manifest, FACTS).read_text(encoding="utf-8"))
    document["conformsTo"] = "http://mlcommons.org/croissant/9.9"
    with pytest.raises(DocumentError, match="mlcroissant rejects"):
        validate(document, "croissant.json")
    document["conformsTo"] = "http://mlcommons.org/croissant/1.1"
    document["recordSet"][0]["field"][0]["source"]["fileObject"]["@id"] = "data/missing.parquet"
    broken = version_dir / "broken.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(DocumentError, match=r"(?s)broken\.json: mlcroissant rejects.*missing\.parquet"):
        validate(broken)


@pytest.mark.parametrize(
    ("arrow", "expected"),
    [
        ("int64", ("cr:Int64", False)),
        ("large_string", ("sc:Text", False)),
        ("date32[day]", ("sc:Date", False)),
        ("timestamp[ns]", ("sc:DateTime", False)),
        ("fixed_size_list<item: float>[8]", ("cr:Float32", True)),
        ("large_list<item: int32 not null>", ("cr:Int32", True)),
    ],
)
def test_arrow_types_map_to_croissant_types(arrow: str, expected: tuple[str, bool]) -> None:
    assert croissant_type(arrow, "c") == expected


def test_docstring_examples() -> None:
    result = doctest.testmod(croissant)
    assert result.attempted >= 3 and result.failed == 0
