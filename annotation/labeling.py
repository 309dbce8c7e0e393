"""Label Studio labeling configurations for plantdata's annotation projects.

The names used here (`label` for the control, `ts` for the time series, `time` for its time column) are the
contract between the configuration, the task data built in `annotation.sensor_windows` and the pre-labels of
`annotation.anomaly`: a prediction whose `from_name`/`to_name` differ from the configuration is not shown.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from config.errors import PlantdataError

FROM_NAME = "label"  # the TimeSeriesLabels control
TO_NAME = "ts"  # the TimeSeries object, and the task data field holding the series
TIME_COLUMN = "time"  # epoch milliseconds (UTC), numbers: Label Studio stores region bounds in the same unit
_PALETTE = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#2ca02c", "#7f7f7f")
HEADER = (
    "Mark every fault on this window: pick a label, then drag across the plot from where the fault starts to "
    "where it ends (Ctrl + wheel zooms). Correct or delete the pre-labels; submit with no region if all is normal."
)


class LabelingConfigError(PlantdataError):
    """A labeling configuration cannot be built from the channels or labels given (a caller bug, not transient)."""


def channel_columns(channels: Sequence[str]) -> dict[str, str]:
    """The task-data column of each channel: lower case letters, digits and `_`, unique, never `time`.

    Label Studio lower-cases a Channel's `column` before looking it up in the task data, so the tag name itself
    (`P101.VIB_RMS`) cannot be the key; the tag stays visible as the channel's legend.

    >>> channel_columns(["P101.VIB_RMS", "P101-VIB-RMS", "Time"])
    {'P101.VIB_RMS': 'p101_vib_rms', 'P101-VIB-RMS': 'p101_vib_rms_2', 'Time': 'time_2'}
    """
    if len(set(channels)) != len(channels):
        raise LabelingConfigError(f"channels are listed more than once: {sorted(channels)}")
    taken = {TIME_COLUMN}
    columns: dict[str, str] = {}
    for channel in channels:
        base = re.sub(r"[^0-9a-z]+", "_", channel.lower()).strip("_") or "channel"
        column, n = base, 1
        while column in taken:
            n += 1
            column = f"{base}_{n}"
        taken.add(column)
        columns[channel] = column
    return columns


def sensor_faults_config(
    channels: list[str], labels: list[str], *, units: Mapping[str, str | None] | None = None
) -> str:
    """The Label Studio XML for marking fault segments on one multichannel sensor window.

    One `Channel` per channel (legend: the tag, units from `units`), a `TimeSeriesLabels` control with `labels`,
    and a header with the instructions and the task's equipment. The time column holds epoch milliseconds,
    displayed as UTC dates; region bounds come back in epoch milliseconds.
    """
    if not channels:
        raise LabelingConfigError("a sensor-fault project needs at least one channel")
    if not labels or len(set(labels)) != len(labels) or not all(label.strip() for label in labels):
        raise LabelingConfigError(f"labels must be distinct and non-blank, got {labels!r}")
    view = ET.Element("View")
    ET.SubElement(view, "Header", value=HEADER, size="6")
    ET.SubElement(view, "Header", value="$equipment", size="4")
    control = ET.SubElement(view, "TimeSeriesLabels", name=FROM_NAME, toName=TO_NAME)
    for i, label in enumerate(labels):
        ET.SubElement(control, "Label", value=label, background=_PALETTE[i % len(_PALETTE)])
    series = ET.SubElement(
        view,
        "TimeSeries",
        name=TO_NAME,
        value=f"${TO_NAME}",
        valueType="json",
        timeColumn=TIME_COLUMN,
        # "date" (a word, not a strftime pattern) makes Label Studio read the numeric time as epoch ms:
        # UTC date axis, numeric region bounds. A timeFormat would turn region bounds into strings.
        timeDisplayFormat="date",
        durationDisplayFormat="%H:%M:%S",
    )
    for channel, column in channel_columns(channels).items():
        attributes = {"column": column, "legend": channel, "height": "120", "displayFormat": ",.4~g"}
        unit = (units or {}).get(channel)
        if unit:
            attributes["units"] = unit
        ET.SubElement(series, "Channel", attributes)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


# work_order_failure: the masked description is the object; failure mode and component are whole-text choices.
WORK_ORDER_TEXT = "text"
WORK_ORDER_FAILURE_MODE = "failure_mode"
WORK_ORDER_COMPONENT = "component"
WORK_ORDER_SPANS = "spans"

# inspection_review: the record's fields (a table) are the object; a decision is required, a comment optional.
INSPECTION_RECORD = "record"
INSPECTION_DECISION = "decision"
INSPECTION_COMMENT = "comment"
ACCEPT = "accept"
REJECT = "reject"


def _values(values: Sequence[str], what: str, *, allow_empty: bool = False) -> list[str]:
    cleaned = [v.strip() for v in values]
    if not cleaned and not allow_empty:
        raise LabelingConfigError(f"{what}: no values given; pass at least one")
    if not all(cleaned):
        raise LabelingConfigError(f"{what}: a value is blank, got {list(values)!r}")
    repeated = sorted({v for v in cleaned if cleaned.count(v) > 1})
    if repeated:
        raise LabelingConfigError(f"{what}: {repeated} listed more than once")
    return cleaned


def _choices(view: ET.Element, name: str, to_name: str, values: list[str], *, required: bool) -> None:
    control = ET.SubElement(view, "Choices", name=name, toName=to_name, choice="single", showInline="true")
    if required:
        control.set("required", "true")
    for value in values:
        ET.SubElement(control, "Choice", value=value)


def work_order_config(failure_modes: list[str], components: list[str], span_labels: list[str]) -> str:
    """The Label Studio XML of `work_order_failure` tasks: one failure mode (required) and one failed component
    for the whole work order, and spans of the description marked with `span_labels` (evidence such as the
    symptom or the part named; no span control when `span_labels` is empty).

    Task data: `text` (the masked description), `wo_id`, `equipment_id`, `wo_type`, `created`. The CMMS-entered
    failure mode stays in the data (a Data Manager column) but is not shown, so it does not anchor the expert.
    Label Studio stores predictions whose choice is not listed here without complaint and shows them empty:
    include every class the pre-label model knows (`FailureModeModel.classes`, `.component_classes`).
    """
    modes = _values(failure_modes, "failure_modes")
    parts = _values(components, "components")
    spans = _values(span_labels, "span_labels", allow_empty=True)
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Work order $wo_id on $equipment_id ($wo_type, created $created)", size="4")
    if spans:
        control = ET.SubElement(view, "Labels", name=WORK_ORDER_SPANS, toName=WORK_ORDER_TEXT)
        for i, label in enumerate(spans):
            ET.SubElement(control, "Label", value=label, background=_PALETTE[i % len(_PALETTE)])
    ET.SubElement(view, "Text", name=WORK_ORDER_TEXT, value=f"${WORK_ORDER_TEXT}", granularity="word")
    ET.SubElement(view, "Header", value="Failure mode", size="5")
    _choices(view, WORK_ORDER_FAILURE_MODE, WORK_ORDER_TEXT, modes, required=True)
    ET.SubElement(view, "Header", value="Failed component", size="5")
    _choices(view, WORK_ORDER_COMPONENT, WORK_ORDER_TEXT, parts, required=False)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def inspection_config() -> str:
    """The Label Studio XML of `inspection_review` tasks: the record's one-line `summary`, its fields as a table
    (task data `record`: field name -> text), a required accept/reject decision and an optional comment."""
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="$summary", size="5")
    ET.SubElement(view, "Table", name=INSPECTION_RECORD, value=f"${INSPECTION_RECORD}")
    _choices(view, INSPECTION_DECISION, INSPECTION_RECORD, [ACCEPT, REJECT], required=True)
    ET.SubElement(
        view,
        "TextArea",
        name=INSPECTION_COMMENT,
        toName=INSPECTION_RECORD,
        rows="2",
        maxSubmissions="1",
        editable="true",
        placeholder="Comment (optional): why reject, what to re-check",
    )
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")
