"""Task-dataset assets: one per shipped spec, downstream of the gated, released and labelled assets it reads.

The build reads the releases through the catalog and refuses a partition whose latest gate evaluation failed
an error-severity check (or that was never judged), so the run fails instead of building from it. The asset
is materialised again whenever one of its inputs is (automation condition), and the build adds a version only
when the data or the spec changed; the data version is the content hash, so Dagster shows a rebuild that
changed nothing as the same data.
"""

from pathlib import Path

import dagster as dg

from assets.annotation import labels_key
from assets.catalog import catalog_key
from assets.gated import gated_key
from assets.resources import PlantdataResource
from task_datasets.spec import TaskSpec

GROUP = "task_datasets"
POOL = "plantdata-task-datasets"


def task_dataset_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["task_datasets", name])


def input_keys(spec: TaskSpec) -> list[dg.AssetKey]:
    """The gated and released asset of every source dataset the spec names, and its label projects' assets."""
    keys: list[dg.AssetKey] = []
    for ref in spec.sources.values():
        keys += [gated_key(ref.dataset), catalog_key(ref.dataset)]
    if spec.labels is not None and spec.labels.expert_consensus is not None:
        keys.append(labels_key(spec.labels.expert_consensus.project))
    return sorted(set(keys), key=lambda k: k.to_user_string())


def build_task_dataset_asset(spec_path: Path, spec: TaskSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=task_dataset_key(spec.name),
        group_name=GROUP,
        deps=input_keys(spec),
        kinds={"parquet", "duckdb"},
        pool=POOL,
        automation_condition=dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress(),
        description=f"{spec.title}: {spec.task} task dataset built from {spec_path.name} (plantdata dataset build); "
        "an immutable version with Parquet per split, manifest, datasheet and Croissant, registered in the catalog. "
        "Refuses a source partition that failed an error-severity gate check.",
    )
    def task_dataset(context: dg.AssetExecutionContext, plantdata: PlantdataResource) -> dg.MaterializeResult[None]:
        from task_datasets.build import build
        from task_datasets.manifest import read_manifest

        layout = plantdata.layout()
        result = build(spec_path, layout, run_id=context.run.run_id)
        manifest = read_manifest(layout, result.folder)
        baseline = manifest.get("baseline") or {}
        return dg.MaterializeResult(
            data_version=dg.DataVersion(result.content_sha256),
            metadata={
                "dataset": result.name,
                "version": result.version,
                "new_version": result.new,
                "folder": dg.MetadataValue.path(str(result.folder)),
                "rows_per_split": dg.MetadataValue.json({f["split"]: f["rows"] for f in manifest["files"]}),
                "sources": dg.MetadataValue.json({s["dataset"]: s["version"] for s in manifest["sources"]}),
                "security_grade": manifest["security"]["grade"],
                "quality_overall": manifest["quality"]["overall"],
                "baseline": dg.MetadataValue.json(baseline),
                "adversarial_auc": manifest["splits"]["adversarial_auc"] or float("nan"),
                "dagster/row_count": sum(f["rows"] for f in manifest["files"]),
            },
        )

    return task_dataset
