"""A simple scikit-learn baseline per build: trained on train, scored on test, fixed random_state.

It tells a team what "easy" looks like before they start, and it changes when the data does: `dataset diff`
shows the change between versions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from task_datasets.spec import BaselineSpec

RANDOM_STATE = 0


def features_matrix(frame: pl.DataFrame, features: list[str]) -> np.ndarray[Any, Any]:
    """Numeric features as a float matrix; a missing value becomes NaN (the models below impute it)."""
    return frame.select(pl.col(features).cast(pl.Float64)).to_numpy()


def train_and_score(
    spec: BaselineSpec, train: pl.DataFrame, test: pl.DataFrame, features: list[str], text: str | None, target: str
) -> dict[str, Any] | None:
    """`{"model", "metric", "value", "split": "test"}` for the manifest and the catalog; None when train holds a
    single class (nothing to learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.metrics import f1_score, mean_absolute_error  # type: ignore[import-untyped]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]

    model: Any
    if spec.model == "tfidf_logistic_regression":
        model = make_pipeline(TfidfVectorizer(min_df=1, ngram_range=(1, 2)), LogisticRegression(max_iter=2000))
        x_train: Any = train[text or ""].fill_null("").to_list()
        x_test: Any = test[text or ""].fill_null("").to_list()
    else:
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # type: ignore[import-untyped]

        forest = RandomForestRegressor if spec.metric == "mae" else RandomForestClassifier
        model = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            forest(n_estimators=100, random_state=RANDOM_STATE, n_jobs=1),
        )
        x_train, x_test = features_matrix(train, features), features_matrix(test, features)
    y_train, y_test = train[target].to_list(), test[target].to_list()
    if spec.metric != "mae" and len(set(y_train)) < 2:
        return None
    model.fit(x_train, y_train)
    predicted = model.predict(x_test)
    if spec.metric == "mae":
        value = mean_absolute_error(y_test, predicted)
    elif spec.metric == "anomaly_f1":
        value = f1_score(y_test, predicted, pos_label="anomaly", average="binary", zero_division=0)
    else:
        value = f1_score(y_test, predicted, average="macro", zero_division=0)
    return {"model": spec.model, "metric": spec.metric, "value": round(float(value), 4), "split": "test"}
