"""The failure-mode text model on small English and German sets, and its cold-start labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from annotation.tasks import Release
from annotation.text_model import ColdStartError, FailureModeModel, TextModelError, normalise, weak_labels

TRAIN = [
    ("Bearing noisy, high vibration at drive end", "bearing_wear"),
    ("Replaced worn bearing on motor", "bearing_wear"),
    ("Lagerschaden am Antrieb, Lager getauscht", "bearing_wear"),
    ("Lager läuft heiß, Geräusche", "bearing_wear"),
    ("Mechanical seal leaking, product on floor", "seal_leak"),
    ("Seal replaced after leak at pump", "seal_leak"),
    ("Gleitringdichtung undicht, Leckage", "seal_leak"),
    ("Dichtung tropft, Leckage am Flansch", "seal_leak"),
    ("Line blocked, cleared blockage in chute", "blockage"),
    ("Verstopfung im Rohr beseitigt", "blockage"),
    ("Blocked strainer cleaned", "blockage"),
    ("Rohr verstopft, gespült", "blockage"),
]
HELD_OUT = [
    ("bearing worn, vibration high", "bearing_wear"),
    ("Lagerdefekt festgestellt", "bearing_wear"),
    ("leak at the seal", "seal_leak"),
    ("Leckage an der Dichtung", "seal_leak"),
    ("chute blocked again", "blockage"),
    ("Ablauf verstopft", "blockage"),
]


def fit(pairs: list[tuple[str, str]]) -> FailureModeModel:
    return FailureModeModel.fit([t for t, _ in pairs], [label for _, label in pairs])


def test_learns_a_separable_set_in_english_and_german() -> None:
    model = fit(TRAIN)
    assert model.classes == ("bearing_wear", "blockage", "seal_leak")
    proba = model.predict_proba([t for t, _ in HELD_OUT])
    assert proba.shape == (6, 3) and np.allclose(proba.sum(axis=1), 1)
    assert [model.classes[i] for i in proba.argmax(axis=1)] == [label for _, label in HELD_OUT]
    predictions = model.predict([t for t, _ in HELD_OUT])
    assert [p.failure_mode for p in predictions] == [label for _, label in HELD_OUT]
    assert all(p.probability == pytest.approx(row.max()) for p, row in zip(predictions, proba, strict=True))
    assert model.predict_component_proba(["x"]) is None and predictions[0].component is None
    assert model.predict_proba([]).shape == (0, 3)


def test_deterministic_and_versioned_by_training_data() -> None:
    a, b = fit(TRAIN), fit(list(reversed(TRAIN)))
    texts = [t for t, _ in HELD_OUT]
    assert a.model_version == b.model_version  # the same pairs in another order
    assert np.allclose(a.predict_proba(texts), b.predict_proba(texts))
    assert a.model_version.startswith("tfidf-logreg-1:12labels:")
    assert fit(TRAIN[:-1]).model_version != a.model_version
    relabelled = [*TRAIN[:-1], (TRAIN[-1][0], "seal_leak")]
    assert fit(relabelled).model_version.split(":")[1:2] == ["12labels"]
    assert fit(relabelled).model_version != a.model_version


def test_component_head_when_component_labels_exist() -> None:
    texts, labels = [t for t, _ in TRAIN], [label for _, label in TRAIN]
    components = {"bearing_wear": "bearing", "seal_leak": "seal", "blockage": None}
    model = FailureModeModel.fit(texts, labels, components=[components[label] for label in labels])
    assert model.component_classes == ("bearing", "seal")
    guess = model.predict(["Dichtung undicht"])[0]
    assert (guess.failure_mode, guess.component) == ("seal_leak", "seal")
    assert guess.component_probability is not None and guess.component_probability > 0.5
    one_component = FailureModeModel.fit(texts, labels, components=["bearing"] * len(texts))
    assert one_component.component_classes == () and one_component.predict(["x"])[0].component is None
    assert one_component.model_version != fit(TRAIN).model_version  # component labels are training data too


def test_cold_start_needs_two_classes() -> None:
    with pytest.raises(ColdStartError, match="at least two classes") as error:
        FailureModeModel.fit(["a leak", "another leak", "no label"], ["seal_leak", "seal_leak", None])
    assert error.value.classes == ("seal_leak",) and error.value.labelled == 2
    with pytest.raises(ColdStartError):
        FailureModeModel.fit([], [])
    with pytest.raises(TextModelError, match="2 texts, 1 labels"):
        FailureModeModel.fit(["a", "b"], ["x"])


def test_masks_become_their_type() -> None:
    text = "Reported by <EMPLOYEE_ID_bb5084c50cc74156>, call <PHONE_NUMBER_7fe06f6896cdbd72>.  LAGER"
    assert normalise(text) == "reported by employee_id , call phone_number . lager"


def test_weak_labels_are_corrective_work_orders_with_a_cmms_failure_mode(tmp_path: Path) -> None:
    folder = tmp_path / "wo" / "v1" / "day=2024-03-01"
    folder.mkdir(parents=True)
    pl.DataFrame(
        {
            "wo_id": ["1", "2", "3", "4", "5"],
            "wo_type": ["corrective", "preventive", "Corrective", "corrective", "corrective"],
            "failure_mode": ["seal_leak", "bearing_wear", " bearing_wear ", None, ""],
            "description": ["leak", "greasing", "noisy bearing", "no mode", "blank mode"],
        }
    ).write_parquet(folder / "part-0.parquet")
    texts, labels = weak_labels(Release("wo", 1, tmp_path / "wo" / "v1"))
    assert (texts, labels) == (["leak", "noisy bearing"], ["seal_leak", "bearing_wear"])
    assert FailureModeModel.fit(texts, labels).classes == ("bearing_wear", "seal_leak")
