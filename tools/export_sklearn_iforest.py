#!/usr/bin/python3
"""Export a fitted scikit-learn IsolationForest to fraudstream's model file (docs/model.md).

    /usr/bin/python3 tools/export_sklearn_iforest.py MODEL.joblib --out MODEL.json \
        [--feature-names a,b,c] [--model-version V] [--feature-set-version FS] \
        [--rows N] [--trained-at ISO8601] [--source TEXT]

MODEL is a pickle or joblib file holding the fitted IsolationForest. The trees are written as they are
(tree_.feature / threshold / children_left / children_right / n_node_samples, offset_, max_samples_),
with each tree's split features mapped through estimators_features_ to the model's columns when the
forest was fitted on feature subsets. scikit-learn compares float32(x) <= threshold, so the file says
splitInput "float32" and fraudstream's loader turns each threshold into its exact float64 equivalent.

Feature names come from --feature-names, else the model's feature_names_in_ (fitted on a DataFrame),
else x0, x1, ... The model version defaults to "sklearn-iforest-" + the first 12 hex digits of the
SHA-256 of the written trees; trainedAt defaults to now (this tool is an edge, it may read the clock).
Exit status 2 with a message on stderr for anything it cannot export.
"""

import argparse
import base64
import datetime as dt
import hashlib
import json
import numbers
import pickle
import sys

import numpy as np

FORMAT = "fraudstream.isolation-forest"
FORMAT_VERSION = 1


def fail(message):
    print(f"export_sklearn_iforest: {message}", file=sys.stderr)
    sys.exit(2)


def array(values, dtype):
    a = np.ascontiguousarray(values, dtype=np.dtype(dtype))
    return {"dtype": dtype, "length": int(a.shape[0]), "base64": base64.b64encode(a.tobytes()).decode("ascii")}


def size_param(value, name):
    # scikit-learn tells a count (int) from a fraction (float); the file spells it out.
    if isinstance(value, str):
        if value != "auto":
            fail(f"{name}={value!r} is not supported")
        return "auto"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return {"count": int(value)}
    if isinstance(value, numbers.Real):
        return {"fraction": float(value)}
    fail(f"{name}={value!r} is not supported")


def load(path):
    try:
        import joblib

        return joblib.load(path)
    except ImportError:
        with open(path, "rb") as f:
            return pickle.load(f)


def forest_arrays(model):
    n_features = int(model.n_features_in_)
    # scikit-learn indexes the subset only when fewer features than columns were drawn per tree
    # (IsolationForest._compute_chunked_score_samples); with all features, the tree's own indices are
    # the columns even though estimators_features_ holds a permutation.
    subsample = int(model._max_features) != n_features
    offsets = [0]
    feature, threshold, left, right, samples = [], [], [], [], []
    for est, feats in zip(model.estimators_, model.estimators_features_):
        t = est.tree_
        leaf = t.children_left == -1
        f = t.feature.astype(np.int64)
        if subsample:
            f = np.where(leaf, -1, np.asarray(feats)[np.where(leaf, 0, f)])
        f = np.where(leaf, -1, f)
        feature.append(f)
        threshold.append(np.where(leaf, 0.0, t.threshold))
        left.append(np.where(leaf, -1, t.children_left))
        right.append(np.where(leaf, -1, t.children_right))
        samples.append(t.n_node_samples)
        offsets.append(offsets[-1] + t.node_count)
    cat = np.concatenate
    return {
        "nFeatures": n_features,
        "trees": len(model.estimators_),
        "nodes": int(offsets[-1]),
        "samplesPerTree": int(model.max_samples_),
        "offset": float(model.offset_),
        "splitInput": "float32",
        "nodeOffsets": array(offsets, "<i4"),
        "feature": array(cat(feature), "<i4"),
        "threshold": array(cat(threshold), "<f8"),
        "left": array(cat(left), "<i4"),
        "right": array(cat(right), "<i4"),
        "nodeSamples": array(cat(samples), "<i4"),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="pickle or joblib file of a fitted sklearn IsolationForest")
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
        from sklearn.ensemble import IsolationForest
    except ImportError:
        fail("scikit-learn is not installed (Debian: apt-get install python3-sklearn)")

    model = load(args.model)
    if not isinstance(model, IsolationForest):
        fail(f"{args.model} holds a {type(model).__name__}, not a sklearn.ensemble.IsolationForest")
    if not hasattr(model, "estimators_"):
        fail(f"{args.model} holds an IsolationForest that is not fitted")

    forest = forest_arrays(model)
    n = forest["nFeatures"]
    if args.feature_names:
        names = [s.strip() for s in args.feature_names.split(",")]
    elif hasattr(model, "feature_names_in_"):
        names = [str(s) for s in model.feature_names_in_]
    else:
        names = [f"x{i}" for i in range(n)]
    if len(names) != n:
        fail(f"the model has {n} features; {len(names)} names were given")

    digest = hashlib.sha256()
    for key in ("nodeOffsets", "feature", "threshold", "left", "right", "nodeSamples"):
        digest.update(forest[key]["base64"].encode("ascii"))
    seed = model.random_state if isinstance(model.random_state, numbers.Integral) else None
    if seed is not None and not (0 <= seed <= 0xFFFFFFFF):
        seed = None
    trained_at = args.trained_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )
    contamination = model.contamination if model.contamination == "auto" else float(model.contamination)
    doc = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "modelVersion": args.model_version or f"sklearn-iforest-{digest.hexdigest()[:12]}",
        "featureNames": names,
        "featureSetVersion": args.feature_set_version,
        "hyperparameters": {
            "nEstimators": forest["trees"],
            "maxSamples": size_param(model.max_samples, "max_samples"),
            "maxFeatures": size_param(model.max_features, "max_features"),
            "contamination": contamination,
            "bootstrap": bool(model.bootstrap),
            "seed": None if seed is None else int(seed),
        },
        "training": {
            "rows": args.rows,
            "timeRange": None,
            "trainedAt": trained_at,
            "trainer": f"scikit-learn {sklearn.__version__}",
            "source": args.source,
        },
        "scoreThreshold": None,
        "metrics": None,
        "forest": forest,
    }
    text = json.dumps(doc, indent=2) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
