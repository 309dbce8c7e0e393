"""Croissant 1.1 JSON-LD for a task-dataset version, with the RAI and PROV-O fields, checked by mlcroissant.

Why Croissant: ML tools (mlcroissant, TFDS, Hugging Face, Kaggle) load a dataset from this one file, and the RAI
vocabulary carries the personal-data, annotation and provenance facts next to the data. One FileObject per split
Parquet (relative `contentUrl`, sha256, so mlcroissant reads it offline and verifies it), one RecordSet per split.
The output is a pure function of the manifest, `facts` and the Parquet files (sorted keys, no clock), so rebuilding
from the same inputs gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from config.commit import commit_bytes
from task_datasets import describe
from task_datasets.describe import Manifest
from task_datasets.errors import DocumentError

CROISSANT_FILE = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
PARQUET = "application/x-parquet"
_FIX = "correct the manifest.json key the message names (the Croissant file is derived from it) and build again"

# The context mlcroissant 1.1.1 writes (its `make_context` for 1.1, https schema.org as it expects), plus the
# Appendix 1 keys of the 1.1 specification and the PROV-O namespace the specification recommends for provenance.
# `name`/`description` stay plain strings (no language container), which mlcroissant and the spec both accept.
# Inline, never a URL: a remote @context would make rdflib fetch it while parsing, and nothing may use the network.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "annotation": "cr:annotation",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "excludes": "cr:excludes",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileProperty": "cr:fileProperty",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "prov": "http://www.w3.org/ns/prov#",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "readLines": "cr:readLines",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "sdVersion": "cr:sdVersion",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "unArchive": "cr:unArchive",
    "value": "cr:value",
}

# Arrow type names (as `str(pa.DataType)` prints them) to Croissant data types.
_SIMPLE_TYPES = {
    "bool": "sc:Boolean",
    "int8": "cr:Int8",
    "int16": "cr:Int16",
    "int32": "cr:Int32",
    "int64": "cr:Int64",
    "uint8": "cr:UInt8",
    "uint16": "cr:UInt16",
    "uint32": "cr:UInt32",
    "uint64": "cr:UInt64",
    "halffloat": "cr:Float16",
    "float16": "cr:Float16",
    "float": "cr:Float32",
    "float32": "cr:Float32",
    "double": "cr:Float64",
    "float64": "cr:Float64",
    "string": "sc:Text",
    "large_string": "sc:Text",
    "utf8": "sc:Text",
    "large_utf8": "sc:Text",
    "string_view": "sc:Text",
    "date32[day]": "sc:Date",
    "date64[ms]": "sc:Date",
}
_PREFIX_TYPES = (("timestamp[", "sc:DateTime"), ("time32[", "sc:Time"), ("time64[", "sc:Time"), ("decimal", "sc:Float"))
_LIST_PREFIXES = ("list<", "large_list<", "fixed_size_list<", "list_view<", "large_list_view<")


def croissant_type(arrow_type: str, column: str) -> tuple[str, bool]:
    """The Croissant `dataType` of an Arrow type string, and whether the column holds arrays.

    >>> croissant_type("timestamp[us, tz=UTC]", "start")
    ('sc:DateTime', False)
    >>> croissant_type("list<item: double>", "window")
    ('cr:Float64', True)
    >>> croissant_type("dictionary<values=string, indices=int32, ordered=0>", "tag")
    ('sc:Text', False)
    """
    text = arrow_type.strip()
    for prefix in _LIST_PREFIXES:
        if text.startswith(prefix):
            inner = text[len(prefix) : text.rindex(">")]
            inner = inner.split(":", 1)[1] if ":" in inner.split("<", 1)[0] else inner
            inner = inner.removesuffix(" not null").strip()
            item, nested = croissant_type(inner, column)
            if nested:
                break  # arrays of arrays: no Croissant shape for ragged nesting
            return item, True
    else:
        if text.startswith("dictionary<values="):
            return croissant_type(text.removeprefix("dictionary<values=").split(",", 1)[0], column)
        if text in _SIMPLE_TYPES:
            return _SIMPLE_TYPES[text], False
        for prefix, data_type in _PREFIX_TYPES:
            if text.startswith(prefix):
                return data_type, False
    raise DocumentError(
        f"manifest.json: schema: column {column!r}",
        f"Arrow type {arrow_type!r} has no Croissant data type",
        "cast the column to a number, text, boolean, date, timestamp or a list of those before writing the split",
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_objects(version_dir: Path, manifest: Manifest) -> list[dict[str, Any]]:
    """One FileObject per split, after checking each Parquet file is there and matches the manifest's sha256."""
    objects = []
    for entry in describe.splits_in_order(manifest):
        path = version_dir / entry["path"]
        if not path.is_file():
            raise DocumentError(
                str(path), "the split file named in manifest.json is missing", "write data/<split>.parquet first"
            )
        if _sha256(path) != entry["sha256"]:
            raise DocumentError(
                str(path),
                "its sha256 differs from files[].sha256 in manifest.json",
                "compute the manifest from the files as written, then write the documents",
            )
        objects.append(
            {
                "@type": "cr:FileObject",
                "@id": entry["path"],
                "name": entry["path"],
                "description": f"The {entry['split']} split: {entry['rows']} rows.",
                "contentUrl": entry["path"],
                "contentSize": f"{entry['bytes']} B",
                "encodingFormat": PARQUET,
                "sha256": entry["sha256"],
            }
        )
    return objects


def _field(manifest: Manifest, split: str, file_id: str, column: dict[str, Any]) -> dict[str, Any]:
    data_type, is_array = croissant_type(column["type"], column["name"])
    target = manifest["target"]
    types: str | list[str] = data_type
    field: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{split}/{quote(column['name'], safe='')}",
        "name": column["name"],
        "description": f"{column['role']}: {column.get('description') or column['name']}",
        "source": {"fileObject": {"@id": file_id}, "extract": {"column": column["name"]}},
    }
    if column["name"] == target["column"]:
        types = [data_type, "cr:Label"]
        labels = manifest.get("labels") or {}
        field["prov:wasGeneratedBy"] = {
            "@type": "prov:Activity",
            "prov:label": describe.labelling_text(manifest),
        }
        projects = describe.label_projects(manifest)
        if projects:
            field["prov:wasDerivedFrom"] = [
                {"@id": f"urn:plantdata:labels:{p['project']}:v{p['version']}"} for p in projects
            ]
        if labels.get("precedence"):
            field["prov:wasAttributedTo"] = [
                {"@type": "prov:Agent", "prov:label": name} for name in labels["precedence"]
            ]
        # Data-level provenance (Croissant 1.1): the column naming each row's label source annotates the target.
        provenance_columns = [c for c in manifest["schema"] if c["role"] == "label_provenance"]
        if provenance_columns:
            field["annotation"] = [
                {
                    "@type": "cr:Field",
                    "@id": f"{field['@id']}/{quote(c['name'], safe='')}",
                    "name": c["name"],
                    "description": f"Which label source gave this row's {column['name']}.",
                    "dataType": "sc:Text",
                    "equivalentProperty": "prov:wasAttributedTo",
                    "source": {"fileObject": {"@id": file_id}, "extract": {"column": c["name"]}},
                }
                for c in provenance_columns
            ]
    field["dataType"] = types
    if is_array:
        field["isArray"] = True
    return field


def _record_sets(manifest: Manifest, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    record_sets = []
    keys = [c["name"] for c in manifest["schema"] if c["role"] == "key"]
    for file_object, entry in zip(files, describe.splits_in_order(manifest), strict=True):
        split = entry["split"]
        record_set: dict[str, Any] = {
            "@type": "cr:RecordSet",
            "@id": split,
            "name": split,
            "description": f"Records of the {split} split ({entry['rows']} rows), one per row of {entry['path']}.",
            "field": [_field(manifest, split, file_object["@id"], column) for column in manifest["schema"]],
        }
        if keys:
            ids = [{"@id": f"{split}/{quote(k, safe='')}"} for k in keys]
            record_set["key"] = ids[0] if len(ids) == 1 else ids
        record_sets.append(record_set)
    return record_sets


def _texts(facts: dict[str, Any], key: str) -> list[str]:
    """Optional prose from `facts` as a list of strings (one string or a list accepted)."""
    value = facts.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _rai(manifest: Manifest, facts: dict[str, Any]) -> dict[str, Any]:
    """The RAI vocabulary: collection, preprocessing, annotation, personal data, uses, limits, maintenance."""
    projects = describe.label_projects(manifest)
    provenance = (manifest.get("labels") or {}).get("provenance") or {}
    sources = "; ".join(describe.source_lines(manifest)) or "none"
    rai: dict[str, Any] = {
        "rai:dataCollection": " ".join(
            [f"Built by plantdata from released source datasets: {sources}.", *_texts(facts, "collection")]
        ),
        "rai:dataCollectionType": ["Secondary Data analysis", *_texts(facts, "collection_type")],
        "rai:dataPreprocessingProtocol": [
            describe.split_text(manifest),
            describe.quality_text(manifest),
            *_texts(facts, "preprocessing"),
        ],
        "rai:dataManipulationProtocol": " ".join(
            ["Only partitions that passed the error-severity quality gate are used.", *_texts(facts, "cleaning")]
        ),
        "rai:dataAnnotationProtocol": [describe.labelling_text(manifest), *_texts(facts, "labelling")],
        "rai:dataAnnotationAnalysis": describe.project_lines(manifest) or ["No expert annotation project is used."],
        "rai:personalSensitiveInformation": [describe.personal_data_text(manifest), describe.security_text(manifest)],
        "rai:dataUseCases": [
            f"{manifest['task']} for the {manifest['scenario']} application scenario.",
            *_texts(facts, "uses"),
        ],
        "rai:dataBiases": [f"Class balance per split: {line}." for line in describe.class_balance_lines(manifest)]
        + _texts(facts, "biases"),
        "rai:dataLimitations": [describe.baseline_text(manifest), *_texts(facts, "limitations")],
        "rai:dataReleaseMaintenancePlan": " ".join(
            [describe.maintenance_text(manifest), *_texts(facts, "maintenance")]
        ),
    }
    if projects:
        rai["rai:dataAnnotationPlatform"] = ["Label Studio (open-source), through plantdata annotation projects"]
        rai["rai:annotationsPerItem"] = "; ".join(
            f"labels_{p['project']} v{p['version']}: up to {p['annotators']} annotator(s) per item" for p in projects
        )
    rules = sorted(name for name in provenance if "rule" in name)
    if rules:
        rai["rai:machineAnnotationTools"] = [f"plantdata labelling rule: {name}" for name in rules]
    if demographics := _texts(facts, "annotator_demographics"):
        rai["rai:annotatorDemographics"] = demographics
    if impact := _texts(facts, "social_impact"):
        rai["rai:dataSocialImpact"] = " ".join(impact)
    return {key: value for key, value in rai.items() if value not in ([], "")}


def _provenance(manifest: Manifest) -> dict[str, Any]:
    """PROV-O: the source releases and label projects this version derives from, and the build that made it."""
    derived = [
        {"@id": f"urn:plantdata:release:{s['dataset']}:v{s['version']}"}
        for s in sorted(manifest["sources"], key=lambda s: (s["dataset"], s["version"]))
    ]
    derived += [
        {"@id": f"urn:plantdata:labels:{p['project']}:v{p['version']}"} for p in describe.label_projects(manifest)
    ]
    return {
        "prov:wasDerivedFrom": derived,
        "prov:wasGeneratedBy": {
            "@type": "prov:Activity",
            "prov:label": "plantdata dataset build",
            "prov:used": [
                {"@id": f"urn:plantdata:spec:{manifest['name']}:sha256:{manifest['spec_sha256']}"},
                {"@id": f"urn:plantdata:code:{manifest['code_version']}"},
            ],
        },
    }


def croissant_document(version_dir: Path, manifest: Manifest, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Croissant JSON-LD of a version as a dict (checks the split files against the manifest first)."""
    facts = facts or {}
    name, version = manifest["name"], manifest["version"]
    files = _file_objects(version_dir, manifest)
    classification = manifest.get("classification") or {}
    keywords = sorted(
        {
            manifest["task"],
            manifest["scenario"],
            *(str(classification[axis]) for axis in ("data_type", "modality", "domain") if classification.get(axis)),
            *classification.get("source_systems", []),
        }
    )
    creator = facts.get("creator") or "plantdata"
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": name,
        "alternateName": manifest["title"],
        "description": manifest["description"],
        "version": f"{version}.0.0",
        "license": manifest["license"],
        "url": f"urn:plantdata:dataset:{name}:v{version}",
        "creator": {"@type": "sc:Organization", "name": creator},
        "citeAs": (
            f"@misc{{{name}_v{version}, title = {{{manifest['title']}}}, author = {{{creator}}}, "
            f"note = {{plantdata task dataset {name} version {version}, content sha256 {manifest['content_sha256']}}}}}"
        ),
        "keywords": keywords,
        "conditionsOfAccess": describe.security_text(manifest),
        "identifier": f"sha256:{manifest['content_sha256']}",
        "distribution": files,
        "recordSet": _record_sets(manifest, files),
        **_rai(manifest, facts),
        **_provenance(manifest),
    }
    if facts.get("date_published"):
        doc["datePublished"] = str(facts["date_published"])
    return doc


@contextmanager
def quiet_mlcroissant() -> Iterator[None]:
    """Silence mlcroissant's absl warnings (callers get the issues) and a pandas 3.1 deprecation it triggers."""
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.reset_index is deprecated")
            yield
    finally:
        absl.setLevel(level)


def validate(document: dict[str, Any] | Path, where: str | None = None) -> list[str]:
    """Check a Croissant document (a dict, or the path of a file) the way `mlcroissant.Dataset` does.

    Both the metadata and the operation graph mlcroissant would run to read the records are checked. Raises
    `DocumentError` on mlcroissant's errors; returns its warnings, sorted (an empty list is a clean file).
    """
    import mlcroissant as mlc
    from mlcroissant._src.core.context import Context

    where = where or str(document)
    with quiet_mlcroissant():
        context = Context()
        try:
            if isinstance(document, Path):
                metadata = mlc.Metadata.from_file(ctx=context, file=document)
            else:
                metadata = mlc.Metadata.from_json(ctx=context, json_=document)
            mlc.Dataset.from_metadata(metadata)
        except mlc.ValidationError as error:
            raise DocumentError(where, f"mlcroissant rejects the Croissant file: {error}", _FIX) from error
        if context.issues.errors:
            raise DocumentError(where, f"mlcroissant rejects the Croissant file: {sorted(context.issues.errors)}", _FIX)
        return sorted(context.issues.warnings)


def write_croissant(version_dir: Path, manifest: Manifest, facts: dict[str, Any] | None = None) -> Path:
    """Write `croissant.json` into `version_dir` after mlcroissant validated it; fail closed when it does not."""
    path = version_dir / CROISSANT_FILE
    document = croissant_document(version_dir, manifest, facts)
    validate(document, str(path))
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    commit_bytes(path, text.encode("utf-8"))
    return path
