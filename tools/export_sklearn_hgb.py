#!/usr/bin/python3
"""Export a fitted scikit-learn HistGradientBoostingClassifier to fraudstream's boosted-trees model file
(format "fraudstream.gbdt", docs/model.md, "Boosted trees").

    /usr/bin/python3 tools/export_sklearn_hgb.py MODEL.joblib --out MODEL.json \
        [--feature-names a,b,c] [--model-version V] [--feature-set-version FS] \
        [--rows N] [--trained-at ISO8601] [--source TEXT]

MODEL is a pickle or joblib file holding the fitted classifier (binary, numeric features only). The
trees are written as scikit-learn's predictors hold them: a row goes left when x <= num_threshold (X is
float64 in HistGradientBoosting, so the split test is "le"), a missing value the missing_go_to_left
way; a leaf adds `value` (learning rate included) to the margin, which starts at the baseline
prediction (_baseline_prediction, log-odds); `count` (training rows reaching the node) is the cover,
`gain` each split's loss reduction.
predict_proba is then sigmoid(margin) on every row.

Feature names come from --feature-names, else the model's feature_names_in_ (fitted on a DataFrame),
else x0, x1, ... The model version defaults to "sklearn-hgb-" + the first 12 hex digits of the SHA-256
of the written trees; trainedAt defaults to now (this tool is an edge, it may read the clock).
Exit status 2 with a message on stderr for anything it cannot export: a multi-class model, categorical
features, or an object that is not a fitted HistGradientBoostingClassifier.
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import math
import numbers
import pickle
import sys

import numpy as np

FORMAT = "fraudstream.gbdt"
FORMAT_VERSION = 1


def fail(message):
    print(f"export_sklearn_hgb: {message}", file=sys.stderr)
    sys.exit(2)


def array(values, dtype):
    a = np.ascontiguousarray(values, dtype=np.dtype(dtype))
    return {"dtype": dtype, "length": int(a.shape[0]), "base64": base64.b64encode(a.tobytes()).decode("ascii")}


def load(path):
    try:
        import joblib

        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)


def json_value(v):
    """A hyperparameter as JSON: numbers, strings, booleans and None as they are, anything else as text."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v) if math.isfinite(v) else str(v)
    if isinstance(v, (list, tuple, np.ndarray)):
        return [json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    return str(v)


def ensemble(model):
    if int(model.n_trees_per_iteration_) != 1:
        fail(f"the model has {model.n_trees_per_iteration_} trees per iteration (classes {list(model.classes_)}); only binary classifiers can be exported")
    cats = getattr(model, "is_categorical_", None)
    if cats is not None and np.any(cats):
        cols = [int(i) for i in np.flatnonzero(cats)]
        fail(f"features {cols} are categorical; categorical splits cannot be exported (fraudstream's trees split numbers only)")
    offsets = [0]
    feature, threshold, left, right, missing_left, value, cover, gain = [], [], [], [], [], [], [], []
    for i, per_class in enumerate(model._predictors):
        nodes = per_class[0].nodes
        if np.any(nodes["is_categorical"]):
            fail(f"tree {i} has a categorical split; categorical splits cannot be exported")
        leaf = nodes["is_leaf"].astype(bool)
        feature.append(np.where(leaf, -1, nodes["feature_idx"].astype(np.int64)))
        threshold.append(np.where(leaf, 0.0, nodes["num_threshold"]))
        left.append(np.where(leaf, -1, nodes["left"].astype(np.int64)))
        right.append(np.where(leaf, -1, nodes["right"].astype(np.int64)))
        missing_left.append(np.where(leaf, 0, nodes["missing_go_to_left"]))
        value.append(nodes["value"])
        cover.append(nodes["count"].astype(np.float64))
        gain.append(np.where(leaf, 0.0, nodes["gain"]))
        offsets.append(offsets[-1] + len(nodes))
    cat = np.concatenate
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
    if baseline.shape != (1,):
        fail(f"baseline prediction has shape {np.shape(model._baseline_prediction)}; one value expected")
    return {
        "objective": "binary:logistic",
        "nFeatures": int(model.n_features_in_),
        "trees": len(model._predictors),
        "nodes": int(offsets[-1]),
        "baseMargin": float(baseline[0]),
        "split": "le",
        "nodeOffsets": array(offsets, "<i4"),
        "feature": array(cat(feature), "<i4"),
        "threshold": array(cat(threshold), "<f8"),
        "left": array(cat(left), "<i4"),
        "right": array(cat(right), "<i4"),
        "missingLeft": array(cat(missing_left), "|u1"),
        "value": array(cat(value), "<f8"),
        "cover": array(cat(cover), "<f8"),
        "gain": array(cat(gain), "<f8"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="pickle or joblib file of a fitted sklearn HistGradientBoostingClassifier")
    p.add_argument("--out", help="output JSON file (default: stdout)")
    p.add_argument("--feature-names", help="comma-separated column names, in order")
    p.add_argument("--model-version")
    p.add_argument("--feature-set-version")
    p.add_argument("--rows", type=int, help="training rows, when known")
    p.add_argument("--trained-at", help="ISO 8601 time with offset (default: now, UTC)")
    p.add_argument("--source", help="free text: the training data")
    args = p.parse_args()

    try:
        import sklearn
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        fail("scikit-learn is not installed (Debian: apt-get install python3-sklearn)")

    model = load(args.model)
    if not isinstance(model, HistGradientBoostingClassifier):
        fail(f"{args.model} holds a {type(model).__name__}, not a sklearn.ensemble.HistGradientBoostingClassifier")
    if not hasattr(model, "_predictors"):
        fail(f"{args.model} holds a HistGradientBoostingClassifier that is not fitted")

    trees = ensemble(model)
    n = trees["nFeatures"]
    if args.feature_names:
        names = [s.strip() for s in args.feature_names.split(",")]
    elif hasattr(model, "feature_names_in_"):
        names = [str(s) for s in model.feature_names_in_]
    else:
        names = [f"x{i}" for i in range(n)]
    if len(names) != n:
        fail(f"the model has {n} features; {len(names)} names were given")

    digest = hashlib.sha256()
    for key in ("nodeOffsets", "feature", "threshold", "left", "right", "missingLeft", "value", "cover"):
        digest.update(trees[key]["base64"].encode("ascii"))
    trained_at = args.trained_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )
    params = {k: json_value(v) for k, v in model.get_params().items()}
    params["n_iter_"] = int(model.n_iter_)
    doc = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "modelVersion": args.model_version or f"sklearn-hgb-{digest.hexdigest()[:12]}",
        "featureNames": names,
        "featureSetVersion": args.feature_set_version,
        "hyperparameters": params,
        "training": {
            "rows": args.rows,
            "timeRange": None,
            "trainedAt": trained_at,
            "trainer": f"scikit-learn {sklearn.__version__}",
            "source": args.source,
        },
        "scoreThreshold": None,
        "metrics": None,
        "ensemble": trees,
    }
    text = json.dumps(doc, indent=2, allow_nan=False) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
