"""Expert labels as Dagster assets: one `labels/<project>` asset per Label Studio project.

A run pulls incrementally and publishes the labels dataset; when the server is down it retries with backoff
(see assets/retries.py). The sensor that requests these runs is in pipelines/sensors.py.
"""

from pathlib import Path

import dagster as dg

from annotation.projects import ProjectSpec
from annotation.settings import LabelStudioSettings
from assets.catalog import catalog_key
from assets.resources import PlantdataResource
from assets.retries import retry_transient
from config.sources import SourcesFile

GROUP = "annotation"


class LabelStudioResource(dg.ConfigurableResource["LabelStudioResource"]):
    """The Label Studio server; credentials come from PLANTDATA_LABEL_STUDIO_* or an untracked `.env`, never from
    Dagster configuration (which the UI shows)."""

    dotenv: str = ".env"

    def settings(self, data_root: Path) -> LabelStudioSettings:
        return LabelStudioSettings.from_environment(data_root, dotenv=Path(self.dotenv).resolve())


def labels_key(project: str) -> dg.AssetKey:
    return dg.AssetKey(["labels", project])


def build_labels_asset(sources: SourcesFile, spec: ProjectSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=labels_key(spec.name),
        group_name=GROUP,
        deps=[catalog_key(spec.dataset)],
        kinds={"labelstudio", "duckdb"},
        pool=f"plantdata-annotation-{spec.name}",
        description=f"Expert labels of {spec.dataset} ({spec.kind.value}) pulled from Label Studio project "
        f"'{spec.title}': one row per annotation with the task's agreement and consensus, published to the "
        f"catalog as labels_{spec.name} with lineage to the release version it labels.",
    )
    def labels(
        context: dg.AssetExecutionContext, plantdata: PlantdataResource, label_studio: LabelStudioResource
    ) -> dg.MaterializeResult[None]:
        layout = plantdata.layout()
        with retry_transient(context):
            from annotation.loop import Loop, pull_labels  # Label Studio's SDK and scikit-learn: only when it runs

            loop = Loop.from_sources(label_studio.settings(layout.root), sources, layout)
            report = pull_labels(loop, spec.name, run_id=context.run.run_id)
        progress = report.summary.progress
        published = report.published
        return dg.MaterializeResult(
            metadata={
                "tasks_fetched": report.tasks_fetched,
                "annotations": report.annotations,
                "annotations_changed": report.changed,
                "tasks": progress["tasks"],
                "annotated_tasks": progress["annotated_tasks"],
                "krippendorff_alpha": progress["alpha"] if progress["alpha"] is not None else float("nan"),
                "consensus": dg.MetadataValue.json(progress["consensus"]),
                "prelabel_acceptance": dg.MetadataValue.json(progress["prelabel_acceptance"]),
                "excluded_annotations": dg.MetadataValue.json(report.summary.excluded),
                "dataset": f"labels_{spec.name}",
                "version": published.version if published else 0,
                "new_version": bool(published and published.new),
                "dagster/row_count": report.summary.table.num_rows,
            }
        )

    return labels
