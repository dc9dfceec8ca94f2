"""Decision tree, random forest and gradient boosting compiled into flat node arrays.

Probability = finish(start + sum over trees of the reached leaf's value), with
  forest / single tree: start 0, leaf value = p(class 1) in the leaf, finish = mean over trees;
  gradient boosting:    start = init log-odds, leaf value = learning_rate * value, finish = sigmoid.
Inputs are rounded through float32 first, as scikit-learn's trees compare them. Two walkers over the
same nodes: plain Python per tree (best for a few shallow trees) and NumPy advancing every tree one
level per step (best for deep forests); the faster on the probe rows serves.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from adapters.fast_scoring.encoding import NotCompilable, RowEncoder

TREE_MODELS = (RandomForestClassifier, DecisionTreeClassifier, GradientBoostingClassifier)
MAX_PYTHON_NODES = 100_000
"""Above this many nodes the Python walker is not built: it would be slower (cache misses) and large."""
LEVELS_PER_CHECK = 4


def sigmoid(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class TreePredictor:
    def __init__(self, encoder: RowEncoder, estimator: Any, column: int, timing_rows: Sequence[Mapping[str, Any]] = ()) -> None:
        self._encoder = encoder
        self._estimator = estimator
        self._column = column
        trees, self._start, self._boosted, leaf_values = _unpack(estimator, column)
        if any(int(t.feature.max(initial=0)) >= encoder.width for t in trees):
            raise NotCompilable("a tree splits on a column the encoder does not produce")
        self._n_trees = len(trees)
        self._arrays = flat_arrays(trees, leaf_values)
        walkers: dict[str, Callable[[Mapping[str, Any]], float]] = {"numpy-trees": self._one_numpy}
        if sum(t.node_count for t in trees) <= MAX_PYTHON_NODES:
            self._lists = _flat_lists(trees, leaf_values)
            walkers["python-trees"] = self._one_python
        self.serving_path, self.one = _fastest(walkers, timing_rows)

    def _finish(self, total: float) -> float:
        return sigmoid(total) if self._boosted else total / self._n_trees

    def _one_python(self, features: Mapping[str, Any]) -> float:
        x = self._encoder.row32(features)
        roots, feature, threshold, left, right, leaf = self._lists
        total = self._start
        for node in roots:
            while node >= 0:
                node = left[node] if x[feature[node]] <= threshold[node] else right[node]
            total += leaf[~node]
        return self._finish(total)

    def _one_numpy(self, features: Mapping[str, Any]) -> float:
        x = np.array(self._encoder.row(features), dtype=np.float32)
        roots, feature, threshold, children, is_leaf, value = self._arrays
        node = roots
        level = 0
        while True:
            node = children[2 * node + (x[feature[node]] > threshold[node])]
            level += 1
            if level % LEVELS_PER_CHECK == 0 and is_leaf[node].all():
                break
        return self._finish(self._start + float(value[node].sum()))

    def many(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.of_encoded(self._encoder.matrix(rows))

    def of_encoded(self, x: np.ndarray) -> np.ndarray:
        return self._estimator.predict_proba(x)[:, self._column]


def _unpack(estimator: Any, column: int) -> tuple[list[Any], float, bool, Callable[[np.ndarray], np.ndarray]]:
    """(fitted `tree_`s, start, boosted, leaf values from a `tree_.value` array)."""
    if isinstance(estimator, (RandomForestClassifier, DecisionTreeClassifier)):
        models = estimator.estimators_ if isinstance(estimator, RandomForestClassifier) else [estimator]
        return [m.tree_ for m in models], 0.0, False, lambda value: value[:, 0, column] / (value[:, 0, 0] + value[:, 0, 1])
    if isinstance(estimator, GradientBoostingClassifier):
        if estimator.estimators_.shape[1] != 1:
            raise NotCompilable("gradient boosting is not binary")
        rate = float(estimator.learning_rate)
        return [m.tree_ for m in estimator.estimators_[:, 0]], _boosting_init(estimator), True, lambda value: rate * value[:, 0, 0]
    raise NotCompilable(f"{type(estimator).__name__} is not a tree model")


def _boosting_init(estimator: GradientBoostingClassifier) -> float:
    """The init estimator's constant raw prediction: logit of the class prior, clipped like scikit-learn."""
    init = estimator.init_
    if isinstance(init, str) and init == "zero":
        return 0.0
    if not isinstance(init, DummyClassifier) or init.strategy != "prior":
        raise NotCompilable("gradient boosting has a custom init estimator")
    eps = float(np.finfo(np.float64).eps)
    p = min(max(float(init.class_prior_[1]), eps), 1.0 - eps)
    return math.log(p / (1.0 - p))


def flat_arrays(trees: Sequence[Any], leaf_values: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, ...]:
    """Every tree's nodes at an offset in shared arrays; children[2n] is left, children[2n+1] right;
    a leaf points to itself (threshold +inf), so stepping past the bottom is harmless."""
    offsets = np.cumsum([0] + [t.node_count for t in trees])
    total = int(offsets[-1])
    feature = np.zeros(total, dtype=np.intp)
    threshold = np.full(total, np.inf)
    children = np.empty(2 * total, dtype=np.intp)
    is_leaf = np.zeros(total, dtype=bool)
    value = np.zeros(total)
    for tree, offset in zip(trees, offsets[:-1], strict=True):
        ids = np.arange(tree.node_count) + offset
        leaf = tree.children_left == -1
        split = ~leaf
        feature[ids[split]] = tree.feature[split]
        threshold[ids[split]] = tree.threshold[split]
        children[2 * ids] = np.where(leaf, ids, tree.children_left + offset)
        children[2 * ids + 1] = np.where(leaf, ids, tree.children_right + offset)
        is_leaf[ids] = leaf
        value[ids[leaf]] = leaf_values(tree.value[leaf])
    return offsets[:-1].astype(np.intp), feature, threshold, children, is_leaf, value


def _flat_lists(trees: Sequence[Any], leaf_values: Callable[[np.ndarray], np.ndarray]) -> tuple[list[Any], ...]:
    """Split nodes of every tree in shared lists; a child < 0 is a leaf, `~child` indexes `leaf`."""
    roots: list[int] = []
    feature: list[int] = []
    threshold: list[float] = []
    left: list[int] = []
    right: list[int] = []
    leaf: list[float] = []
    for tree in trees:
        children_left, children_right = tree.children_left.tolist(), tree.children_right.tolist()
        features, thresholds = tree.feature.tolist(), tree.threshold.tolist()
        values = leaf_values(tree.value).tolist()
        index: list[int] = []
        for node, child in enumerate(children_left):
            if child == -1:
                index.append(~len(leaf))
                leaf.append(values[node])
            else:
                index.append(len(feature))
                feature.append(features[node])
                threshold.append(thresholds[node])
        left.extend([0] * (len(feature) - len(left)))
        right.extend([0] * (len(feature) - len(right)))
        for node, child in enumerate(children_left):
            if child != -1:
                left[index[node]] = index[child]
                right[index[node]] = index[children_right[node]]
        roots.append(index[0])
    return roots, feature, threshold, left, right, leaf


def _fastest(
    walkers: Mapping[str, Callable[[Mapping[str, Any]], float]], rows: Sequence[Mapping[str, Any]]
) -> tuple[str, Callable[[Mapping[str, Any]], float]]:
    """The walker with the lowest best-of-3 time on up to 50 rows; the first one without rows."""
    if len(walkers) == 1 or not rows:
        name = next(iter(walkers))
        return name, walkers[name]
    sample = list(rows[:50])
    timings = {}
    for name, walk in walkers.items():
        best = math.inf
        for _ in range(3):
            started = time.perf_counter()
            for row in sample:
                walk(row)
            best = min(best, time.perf_counter() - started)
        timings[name] = best
    name = min(timings, key=timings.__getitem__)
    return name, walkers[name]
