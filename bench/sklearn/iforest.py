#!/usr/bin/python3
"""scikit-learn's IsolationForest as the peer of Ja4.Modules.Detection.Model.IsolationForest.

Run with /usr/bin/python3 (Debian's python3-sklearn).

  iforest.py compare DATA.csv
      DATA.csv: header, then feature columns f*, a 0/1 column `label` (1 = planted outlier) and one
      or more columns ours_<seed> holding our forest's scores for that seed. Fits sklearn's forest
      (100 trees, max_samples=256, the paper's parameters) with random_state = each seed and prints
      one JSON line: ROC AUC of sklearn and of ours, each averaged over the seeds.

  iforest.py time DATA.f32 ROWS COLS
      DATA.f32: ROWS x COLS little-endian float32, row-major. Prints one JSON line with the seconds
      sklearn took to fit and to score every row.
"""
import csv
import json
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def forest(seed):
    return IsolationForest(n_estimators=100, max_samples=256, random_state=seed)


def compare(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], np.array(rows[1:], dtype=np.float64)
    features = [i for i, h in enumerate(header) if h.startswith("f")]
    label = body[:, header.index("label")]
    ours = [(h, i) for i, h in enumerate(header) if h.startswith("ours_")]
    x = body[:, features].astype(np.float32)
    sk_auc, our_auc = [], []
    for name, column in ours:
        seed = int(name.split("_", 1)[1])
        model = forest(seed).fit(x)
        sk_auc.append(roc_auc_score(label, -model.score_samples(x)))
        our_auc.append(roc_auc_score(label, body[:, column]))
    print(json.dumps({"rows": len(body), "features": len(features), "seeds": len(ours),
                      "sklearn_auc": float(np.mean(sk_auc)), "ours_auc": float(np.mean(our_auc)),
                      "sklearn_auc_each": sk_auc, "ours_auc_each": our_auc}))


def timing(path, rows, cols):
    x = np.fromfile(path, dtype="<f4").reshape(rows, cols)
    start = time.perf_counter()
    model = forest(0).fit(x)
    fitted = time.perf_counter()
    model.score_samples(x)
    scored = time.perf_counter()
    print(json.dumps({"fit_seconds": fitted - start, "score_seconds": scored - fitted}))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "compare":
        compare(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "time":
        timing(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
