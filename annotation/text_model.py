"""The pre-label model of work orders: failure mode (and failed component) from the free-text description.

TF-IDF over word uni- and bigrams plus character 3-5-grams within words, then a logistic regression. Character
n-grams carry what words miss in short technician texts: German compounds ("Lagerschaden" shares "lager" with
"Lager defekt"), inflections, typos and mixed English/German. Masked personal data (`<PERSON_1a2b...>`) is
reduced to its type, so a pseudonym never becomes a feature. Training is deterministic: the same labelled pairs
give the same model and the same `model_version`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import FeatureUnion, Pipeline  # type: ignore[import-untyped]

from annotation.records import read_release
from annotation.tasks import Release
from config.errors import PlantdataError

MODEL_FAMILY = "tfidf-logreg-1"
_MASK = re.compile(r"<([A-Z][A-Z_]*?)_[0-9a-f]{6,}>")
_SPACES = re.compile(r"\s+")


class TextModelError(PlantdataError):
    """A text model cannot be trained from what it was given (the message says what is missing)."""


class ColdStartError(TextModelError):
    """Fewer than two failure-mode classes among the labels: nothing to tell apart yet."""

    def __init__(self, classes: Sequence[str], labelled: int) -> None:
        self.classes, self.labelled = tuple(classes), labelled
        super().__init__(
            f"a failure-mode model needs at least two classes, got {labelled} labelled texts of "
            f"{len(self.classes)} class(es) {list(self.classes)}. Fix: label work orders of another failure mode "
            "(or start from weak_labels() over more corrective work orders), or build tasks without a model"
        )


def normalise(text: str) -> str:
    """The text as the vectorisers see it: masks reduced to their type, case folded, spaces collapsed."""
    return _SPACES.sub(" ", _MASK.sub(lambda m: f" {m.group(1).lower()} ", text)).strip().casefold()


def _classifier() -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=False)),
        ]
    )
    return Pipeline(
        [
            ("features", features),
            ("classify", LogisticRegression(class_weight="balanced", max_iter=2000, random_state=0)),
        ]
    )


@dataclass(frozen=True)
class _Head:
    """One fitted classifier and its classes, in the column order of its probabilities."""

    pipeline: Pipeline
    classes: tuple[str, ...]

    @classmethod
    def fit(cls, texts: list[str], labels: list[str]) -> _Head:
        pipeline = _classifier().fit([normalise(t) for t in texts], labels)
        return cls(pipeline, tuple(str(c) for c in pipeline.classes_))

    def proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        if not texts:
            return np.zeros((0, len(self.classes)))
        return np.asarray(self.pipeline.predict_proba([normalise(t) for t in texts]), dtype=np.float64)


@dataclass(frozen=True)
class TextPrediction:
    """The most probable failure mode (and component, when the model has a component head) of one text."""

    failure_mode: str
    probability: float
    component: str | None = None
    component_probability: float | None = None


def _label(value: str | None) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


class FailureModeModel:
    """Failure mode, and failed component when component labels exist, from a work order's description.

    Build it with `FailureModeModel.fit`; `model_version` names the family, the number of labelled texts and a
    hash of the training pairs, so predictions in Label Studio say which labels they came from.
    """

    def __init__(self, failure_modes: _Head, components: _Head | None, labelled: int, digest: str) -> None:
        self._failure_modes, self._components = failure_modes, components
        self.model_version = f"{MODEL_FAMILY}:{labelled}labels:{digest}"

    @classmethod
    def fit(
        cls, texts: Sequence[str], labels: Sequence[str | None], components: Sequence[str | None] | None = None
    ) -> FailureModeModel:
        """Train on `texts` and their failure-mode `labels` (None or blank: not labelled, skipped).

        `components`, when given, are the failed components of the same texts; a component head is trained when
        they hold at least two classes, else the model predicts failure modes only.

        Raises:
            ColdStartError: fewer than two failure-mode classes among the labelled texts.
            TextModelError: `texts`, `labels` and `components` differ in length.
        """
        parts: Sequence[str | None] = components if components is not None else [None] * len(texts)
        if not len(texts) == len(labels) == len(parts):
            raise TextModelError(
                f"{len(texts)} texts, {len(labels)} labels and {len(parts)} components: give one of each per text"
            )
        rows = [(t or "", _label(m), _label(c)) for t, m, c in zip(texts, labels, parts, strict=True)]
        rows = [r for r in rows if r[1] is not None or r[2] is not None]
        modes = [(t, m) for t, m, _ in rows if m is not None]
        mode_classes = sorted({m for _, m in modes})
        if len(mode_classes) < 2:
            raise ColdStartError(mode_classes, len(modes))
        failure_head = _Head.fit([t for t, _ in modes], [m for _, m in modes])
        comps = [(t, c) for t, _, c in rows if c is not None]
        component_head = (
            _Head.fit([t for t, _ in comps], [c for _, c in comps]) if len({c for _, c in comps}) > 1 else None
        )
        pairs = sorted(json.dumps([t, m, c], ensure_ascii=False) for t, m, c in rows)
        digest = hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:8]
        return cls(failure_head, component_head, len(modes), digest)

    @property
    def classes(self) -> tuple[str, ...]:
        """The failure modes, in the column order of `predict_proba`."""
        return self._failure_modes.classes

    @property
    def component_classes(self) -> tuple[str, ...]:
        """The components, in the column order of `predict_component_proba` (empty without a component head)."""
        return self._components.classes if self._components is not None else ()

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Failure-mode probabilities, one row per text, columns as in `classes`."""
        return self._failure_modes.proba(texts)

    def predict_component_proba(self, texts: Sequence[str]) -> NDArray[np.float64] | None:
        """Component probabilities, columns as in `component_classes`; None without a component head."""
        return self._components.proba(texts) if self._components is not None else None

    def predict(self, texts: Sequence[str]) -> list[TextPrediction]:
        """The most probable failure mode (and component) of each text, with its probability."""
        modes = self.predict_proba(texts)
        comps = self.predict_component_proba(texts)
        out = []
        for i, row in enumerate(modes):
            best = int(np.argmax(row))
            component, component_p = None, None
            if comps is not None:
                c = int(np.argmax(comps[i]))
                component, component_p = self.component_classes[c], float(comps[i][c])
            out.append(TextPrediction(self.classes[best], float(row[best]), component, component_p))
        return out


def weak_labels(
    release: Release,
    *,
    text_column: str = "description",
    type_column: str = "wo_type",
    label_column: str = "failure_mode",
    corrective_types: Sequence[str] = ("corrective",),
) -> tuple[list[str], list[str]]:
    """Cold start: (texts, labels) from the failure mode the CMMS holds for corrective work orders.

    Before experts have labelled anything, the failure modes technicians entered in the CMMS are the only labels
    there are. They are weak: often missing (skipped here) and sometimes wrong, and only corrective work orders
    carry a failure (types compared case-insensitively). Train a first model on them,
    `FailureModeModel.fit(*weak_labels(release))`, to pre-label and rank the first batch; once expert labels come
    back, train on those instead (the `model_version` changes with the training pairs).
    """
    frame = read_release(release, [text_column, type_column, label_column])
    wanted = [t.lower() for t in corrective_types]
    frame = frame.filter(
        pl.col(type_column).cast(pl.String).str.to_lowercase().is_in(wanted)
        & (pl.col(label_column).cast(pl.String).str.strip_chars().str.len_chars() > 0)
    )
    texts = [t or "" for t in frame[text_column].cast(pl.String).to_list()]
    labels = [str(v).strip() for v in frame[label_column].to_list()]
    return texts, labels
