"""One ingestion job per source (materialise its standardised asset and run its checks), the publication job, and
one labels job per annotation project."""

from __future__ import annotations

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from annotation.projects import ProjectSpec
from assets.annotation import labels_key
from assets.gated import gated_key
from assets.ingest import standardised_key
from config.sources import SourceConfig


def job_name(source: SourceConfig) -> str:
    return f"ingest_{source.name}"


def build_ingest_job(source: SourceConfig) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=job_name(source),
        selection=dg.AssetSelection.assets(standardised_key(source.name), gated_key(source.name)),
        description=f"Standardise the {source.name} exports ({source.kind.value}) into canonical Parquet, check "
        "them against the quality suite and publish what passes.",
    )


PUBLISH_JOB = "publish_catalog"


def build_publish_job() -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=PUBLISH_JOB,
        selection=dg.AssetSelection.groups("catalog"),
        description="Publish every gated source into the DuckDB catalog (a new version only when its content changed).",
    )


def build_labels_job(spec: ProjectSpec) -> UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"labels_{spec.name}",
        selection=dg.AssetSelection.assets(labels_key(spec.name)),
        description=f"Pull the annotations of Label Studio project {spec.name} and publish labels_{spec.name}.",
    )
