"""Contributions per original feature for the compiled models (churn.reasons ranks them).

- Logistic regression, exact: coefficient x (encoded value - its training mean), one-hot columns summed
  back to their feature; they add up to logit(p) - logit at the training means. The means are kept on
  the fitted pipeline by the trainer (`TRAINING_MEANS`); a pipeline without them (an older version)
  falls back to the probe rows' means.
- Trees (decision tree, random forest, gradient boosting): path-dependent TreeSHAP on the encoded
  columns, summed per feature (probability units for forests, log-odds for boosting): lookup tables
  built at load (tree_shap.py) or, for trees too deep for them, `shap.TreeExplainer`.
- Anything else (SVC, k-NN, a pipeline served by scikit-learn): baseline substitution, model-agnostic:
  contribution of a feature = p(x) - p(x with that feature set to its training baseline, the value the
  imputer fills in: median for numbers, most frequent category); one vectorised call per batch of rows.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

from adapters.fast_scoring.encoding import RowEncoder
from adapters.fast_scoring.tree_shap import NotTabulable, TreeShapTables
from adapters.fast_scoring.trees import LEVELS_PER_CHECK, flat_arrays
from churn.features import FeatureSchema
from churn.reasons import ExplanationMethod, ReasonLists, value_label

log = logging.getLogger(__name__)

TREE_SHAP_BUDGET = 100_000
"""Above this TreeSHAP cost per row (sum of leaves x depth^2 over the trees) a tree model is explained
by its decision paths instead. shap takes about 2.8 ns of CPU per unit (the default Telco forest,
min_samples_leaf=10: 413,796 units, 1.14 ms a row), so the budget keeps TreeSHAP within the +300 µs
a prediction allowed for a 100-tree forest; its decision paths cost ~12 µs a row. The tables are
cheaper than shap, but a model within the budget is still the one that gets TreeSHAP: the method a
model is explained by does not depend on which of the two computes it."""

PATH_CHUNK_ROWS = 512
MAX_PATH_TABLE_BYTES = 512 * 1024 * 1024
"""Built while loading (every node x feature, float64; the leaves' half is kept): above it a tree model
too deep for TreeSHAP is explained by baseline substitution."""

TRAINING_MEANS = "churn_training_means_"
"""Attribute of the fitted Pipeline: the encoded training matrix's column means (set by the trainer)."""


def aggregation(encoder: RowEncoder, names: Sequence[str]) -> np.ndarray:
    """(encoded width x features) 0/1 matrix: which feature each encoded column belongs to."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.zeros((encoder.width, len(names)))
    for slot in encoder.numeric:
        matrix[slot.position, index[slot.name]] = 1.0
    for category in encoder.categorical:
        for position in set(category.positions.values()) | ({category.unknown} if category.unknown is not None else set()):
            matrix[position, index[category.name]] = 1.0
    return matrix


class LinearExplainer:
    method = ExplanationMethod.LINEAR

    def __init__(self, encoder: RowEncoder, coef: np.ndarray, means: np.ndarray, names: Sequence[str]) -> None:
        weights = coef.tolist()
        self._names = tuple(names)
        self._numeric = tuple(
            (s.name, s.fill, s.mean, s.scale, weights[s.position], float(means[s.position])) for s in encoder.numeric
        )
        self._categorical = tuple(
            (
                s.name,
                {c: weights[p] for c, p in s.positions.items()},
                0.0 if s.unknown is None else weights[s.unknown],
                float(sum(weights[p] * means[p] for p in set(s.positions.values()) | ({s.unknown} if s.unknown is not None else set()))),
            )
            for s in encoder.categorical
        )
        self._encoder = encoder
        self._centred_weights = coef
        self._means = means
        self._aggregate = aggregation(encoder, names)

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, fill, mean, scale, weight, centre in self._numeric:
            value = features[name]
            out[name] = weight * (((fill if value is None else value) - mean) / scale - centre)
        for name, weights, unknown, baseline in self._categorical:
            out[name] = weights.get(features[name], unknown) - baseline
        return out

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.of_encoded(self._encoder.matrix(rows), lambda: rows)

    def of_encoded(self, x: np.ndarray, rows: Callable[[], Sequence[Mapping[str, Any]]]) -> np.ndarray:
        """`matrix` of the rows whose RowEncoder.matrix is `x` (`rows` gives them, for a method that needs them)."""
        return ((x - self._means) * self._centred_weights) @ self._aggregate

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return as_dicts(self._names, self.matrix(rows))


class TreeShapExplainer:
    """Exact path-dependent TreeSHAP: by lookup tables (tree_shap.TreeShapTables, the same values as
    shap's to about 1e-15, ~10x cheaper a row) when every tree fits them, else through `shap` itself."""

    method = ExplanationMethod.TREE_SHAP

    def __init__(self, encoder: RowEncoder, estimator: Any, names: Sequence[str]) -> None:
        self._encoder = encoder
        self._names = tuple(names)
        self._aggregate = aggregation(encoder, names)
        trees, scale, node_values = tree_parts(estimator)
        self._tables: TreeShapTables | None = None
        self._explainer: Any = None
        try:
            self._tables = TreeShapTables(trees, scale, node_values, self._aggregate.argmax(axis=1), len(self._names))
        except NotTabulable as exc:
            log.info("TreeSHAP through shap: %s", exc)
            import shap  # imported only then: it takes a second to import

            self._explainer = shap.TreeExplainer(estimator, feature_perturbation="tree_path_dependent")

    @property
    def engine(self) -> str:
        """What computes the values: "tables" or "shap"."""
        return "tables" if self._tables is not None else "shap"

    def _shap_values(self, x: np.ndarray) -> np.ndarray:
        """SHAP values of the positive class on encoded rows, (rows x encoded columns), from shap."""
        values = self._explainer.shap_values(x.astype(np.float32), check_additivity=False)
        if isinstance(values, list):
            values = values[1]
        values = np.asarray(values)
        if values.ndim == 3:
            values = values[:, :, 1]
        return values

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        return self.many([features])[0]

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.of_encoded(self._encoder.matrix(rows), lambda: rows)

    def of_encoded(self, x: np.ndarray, rows: Callable[[], Sequence[Mapping[str, Any]]]) -> np.ndarray:
        if self._tables is not None:
            return self._tables.values(x)
        return self._shap_values(x) @ self._aggregate

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return as_dicts(self._names, self.matrix(rows))


def tree_parts(estimator: Any) -> tuple[list[Any], float, Callable[[np.ndarray], np.ndarray]]:
    """(the fitted trees, the scale of their values in the model's output, node value of the positive class)."""
    if isinstance(estimator, GradientBoostingClassifier):
        return list(estimator.estimators_[:, 0]), float(estimator.learning_rate), lambda value: value[:, 0, 0]
    trees = list(estimator.estimators_) if isinstance(estimator, RandomForestClassifier) else [estimator]
    return trees, 1.0 / len(trees), lambda value: value[:, 0, 1] / (value[:, 0, 0] + value[:, 0, 1])


def tree_explainer(encoder: RowEncoder, estimator: Any, names: Sequence[str]) -> Any:
    """TreeSHAP when affordable per row, else decision-path attribution."""
    trees, scale, node_values = tree_parts(estimator)
    if tree_shap_cost(trees) <= TREE_SHAP_BUDGET:
        return TreeShapExplainer(encoder, estimator, names)
    averaged = not isinstance(estimator, GradientBoostingClassifier)  # a forest's (or a tree's) probability is its leaves' mean
    return TreePathExplainer(encoder, trees, node_values, scale, names, averaged)


def tree_shap_cost(trees: Sequence[Any]) -> int:
    """Path-dependent TreeSHAP's work per row, O(leaves x depth^2) summed over the trees."""
    return sum(int(t.tree_.n_leaves) * int(t.tree_.max_depth) ** 2 for t in trees)


class TreePathExplainer:
    """Decision-path attribution (Saabas; the `treeinterpreter` method): every split on a row's path
    credits its feature with the change in node value it causes; they add up exactly to the model's
    raw output minus the root's (probability for forests, log-odds for boosting) but, unlike SHAP, the
    credit depends on the split order. Used for forests too deep for TreeSHAP's O(leaves x depth^2)
    per row (a 100-tree forest of unlimited depth on Telco: ~160 ms a row through shap).

    A leaf has one path from the root, so its credits per feature are fixed: they are summed once per
    leaf when the model loads (a leaves x features table), and explaining a row is finding its leaf in
    each tree (scikit-learn's own `apply`) and adding those rows of the table."""

    method = ExplanationMethod.TREE_PATH

    def __init__(
        self, encoder: RowEncoder, trees: Sequence[Any], node_values: Callable[[Any], np.ndarray], scale: float, names: Sequence[str], averaged: bool = False
    ) -> None:
        self._encoder = encoder
        self._names = tuple(names)
        self._trees = [t.tree_ for t in trees]
        owner = np.asarray(aggregation(encoder, names)).argmax(axis=1)  # encoded column -> its feature
        offsets = np.cumsum([0] + [t.node_count for t in self._trees])
        total = int(offsets[-1])
        parent = np.full(total, -1, dtype=np.intp)
        credited = np.zeros(total, dtype=np.intp)  # the feature the split above a node belongs to
        raw = np.zeros(total)  # node values as the model's trees hold them; `value` in the model's output units
        value = np.zeros(total)
        for t, offset in zip(self._trees, offsets[:-1], strict=True):
            split = np.flatnonzero(t.children_left != -1)
            for children in (t.children_left[split], t.children_right[split]):
                parent[children + offset] = split + offset
                credited[children + offset] = owner[t.feature[split]]
            raw[offset : offset + t.node_count] = node_values(t.value)
            value[offset : offset + t.node_count] = scale * raw[offset : offset + t.node_count]
        change = np.where(parent >= 0, value - value[np.maximum(parent, 0)], 0.0)
        if total * len(self._names) * 8 > MAX_PATH_TABLE_BYTES:
            raise ValueError(f"{total} nodes x {len(self._names)} features is too large a table of path credits")
        table = np.zeros((total, len(self._names)))
        frontier = offsets[:-1].astype(np.intp)  # the roots
        children_of = np.full((total, 2), -1, dtype=np.intp)
        for t, offset in zip(self._trees, offsets[:-1], strict=True):
            split = t.children_left != -1
            ids = np.flatnonzero(split) + offset
            children_of[ids, 0] = t.children_left[split] + offset
            children_of[ids, 1] = t.children_right[split] + offset
        while frontier.size:  # one tree level at a time: a node's credits are its parent's plus its own split
            below = children_of[frontier].ravel()
            below = below[below >= 0]
            if below.size:
                table[below] = table[parent[below]]
                table[below, credited[below]] += change[below]
            frontier = below
        leaves = np.flatnonzero(children_of[:, 0] < 0)
        self._row_of = np.full(total, -1, dtype=np.intp)  # a leaf's row in the table
        self._row_of[leaves] = np.arange(len(leaves))
        self._table = table[leaves]  # only the leaves are ever read: half the memory
        if averaged:  # one more column: the leaf's probability, unscaled, summed as predict_proba sums it
            self._table = np.column_stack([self._table, raw[leaves]])
        self.averaged = averaged
        self._leaf_offsets = offsets[:-1].astype(np.intp)
        self._walk = flat_arrays(self._trees, lambda value: np.zeros(len(value)))

    def _sums(self, x: np.ndarray) -> np.ndarray:
        """(rows x table columns) for encoded float32 rows: each tree's leaf row of the table, summed
        in tree order from zero (one sparse product)."""
        n, k = len(x), len(self._trees)
        leaves = np.empty((n, k), dtype=np.intp)
        for i, t in enumerate(self._trees):
            leaves[:, i] = t.apply(x)
        rows = self._row_of[leaves + self._leaf_offsets]
        picks = csr_matrix((np.ones(n * k), rows.ravel(), np.arange(0, n * k + 1, k)), shape=(n, len(self._table)))
        return np.asarray(picks @ self._table)

    def _contributions(self, x: np.ndarray) -> np.ndarray:
        return self._sums(x)[:, : len(self._names)]

    def scored(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the forest's probability, contributions) of encoded rows from one walk of the trees; the
        probability is `predict_proba`'s to the bit (scikit-learn too adds the trees' leaf
        probabilities from zero in tree order, then divides by their number). Only when `averaged`."""
        if not self.averaged:
            raise ValueError("boosted trees' raw output is not a mean of leaf values")
        f = len(self._names)
        parts = [self._sums(np.ascontiguousarray(x[start : start + PATH_CHUNK_ROWS], dtype=np.float32)) for start in range(0, len(x), PATH_CHUNK_ROWS)]
        sums = np.concatenate(parts) if parts else np.zeros((0, f + 1))
        return sums[:, f] / len(self._trees), sums[:, :f]

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        """One row: every tree walked a level per NumPy step (as the one-row scoring path does), cheaper
        than a call of `apply` per tree."""
        x = np.array(self._encoder.row(features), dtype=np.float32)
        roots, feature, threshold, children, is_leaf, _ = self._walk
        node = roots
        level = 0
        while True:
            node = children[2 * node + (x[feature[node]] > threshold[node])]
            level += 1
            if level % LEVELS_PER_CHECK == 0 and is_leaf[node].all():
                break
        return dict(zip(self._names, self._table[self._row_of[node], : len(self._names)].sum(axis=0).tolist(), strict=True))

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.of_encoded(self._encoder.matrix(rows), lambda: rows)

    def of_encoded(self, x: np.ndarray, rows: Callable[[], Sequence[Mapping[str, Any]]]) -> np.ndarray:
        parts = [
            self._contributions(np.ascontiguousarray(x[start : start + PATH_CHUNK_ROWS], dtype=np.float32))
            for start in range(0, len(x), PATH_CHUNK_ROWS)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, len(self._names)))

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return as_dicts(self._names, self.matrix(rows))


class BaselineSubstitutionExplainer:
    method = ExplanationMethod.BASELINE_SUBSTITUTION

    def __init__(self, schema: FeatureSchema, many: Callable[[Sequence[Mapping[str, Any]]], np.ndarray]) -> None:
        try:  # the examples as a request would send them, encoded as the model takes them (dates as ages, ...)
            self._baseline = dict(schema.encode(schema.check(schema.example())))
        except Exception:
            self._baseline = {f.name: f.example for f in schema.features}
        self._names = tuple(schema.names)
        self._many = many

    def one(self, features: Mapping[str, Any]) -> dict[str, float]:
        return self.many([features])[0]

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        variants: list[Mapping[str, Any]] = []
        for row in rows:
            variants.append(row)
            for name in self._names:
                variants.append({**row, name: self._baseline[name]})
        scores = np.asarray(self._many(variants), dtype=np.float64).reshape(len(rows), len(self._names) + 1)
        return scores[:, :1] - scores[:, 1:]

    def of_encoded(self, x: np.ndarray | None, rows: Callable[[], Sequence[Mapping[str, Any]]]) -> np.ndarray:
        """Model-agnostic: from the rows themselves, never the encoded matrix."""
        return self.matrix(rows())

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return as_dicts(self._names, self.matrix(rows))


def as_dicts(names: Sequence[str], contributions: np.ndarray) -> list[dict[str, float]]:
    return [dict(zip(names, row, strict=True)) for row in contributions.tolist()]


def ranked(names: Sequence[str], contributions: np.ndarray, top: int) -> list[tuple[list[tuple[str, float]], list[tuple[str, float]]]]:
    """churn.reasons.Reasons.rank for every row of a (rows x features) matrix at once: per row the
    `top` largest positive contributions, largest first, and the `top` most negative, most negative
    first, ties by feature name, as (feature, contribution) pairs. A stable sort over the columns
    in name order gives the name order among equal values."""
    if contributions.size == 0:
        return [([], []) for _ in range(len(contributions))]
    up, up_values, down, down_values = (a.tolist() for a in ranked_indices(names, contributions, top))
    out = []
    for ui, uv, di, dv in zip(up, up_values, down, down_values, strict=True):
        out.append((
            [(names[i], v) for i, v in zip(ui, uv, strict=True) if v > 0.0],
            [(names[i], v) for i, v in zip(di, dv, strict=True) if v < 0.0],
        ))
    return out


def ranked_indices(names: Sequence[str], contributions: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`ranked`'s candidates: per row the indices into `names` of the `top` largest contributions,
    largest first, with those contributions, then of the `top` smallest, smallest first; ties by
    feature name."""
    by_name = sorted(range(len(names)), key=lambda i: names[i])
    m = contributions[:, by_name]
    k = min(top, m.shape[1])
    up = np.argsort(-m, axis=1, kind="stable")[:, :k]
    down = np.argsort(m, axis=1, kind="stable")[:, :k]
    order = np.asarray(by_name, dtype=np.intp)
    return order[up], np.take_along_axis(m, up, axis=1), order[down], np.take_along_axis(m, down, axis=1)


def reason_lists(names: Sequence[str], values: Sequence[Sequence[Any]], contributions: np.ndarray, top: int) -> list[ReasonLists | None]:
    """`Reasons.rank(...).to_dict()` of every row of a (rows x features) matrix, None for a row
    without reasons, each value named from `values[feature][row]` (churn.reasons.value_label).

    Ranked candidates are sorted, so a row's raising ones (contribution > 0) are a prefix of its `top`
    largest and its lowering ones a prefix of its `top` smallest: the kept entries of every row, in
    order, are one boolean mask over the candidates; their labels are made a feature at a time for the
    rows that name it; each row's two lists are then slices of one list of entries."""
    n = len(contributions)
    if n == 0 or contributions.shape[1] == 0:
        return [None] * n
    up, up_by, down, down_by = ranked_indices(names, contributions, top)
    features = np.concatenate([up, down], axis=1)
    kept = np.concatenate([up_by > 0.0, down_by < 0.0], axis=1)
    k = up.shape[1]
    raising = np.count_nonzero(kept[:, :k], axis=1).tolist()
    lowering = np.count_nonzero(kept[:, k:], axis=1).tolist()
    rows = np.nonzero(kept)[0]
    named = features[kept]
    labels = np.empty(len(named), dtype=object)
    for feature in np.unique(named).tolist():
        at = np.flatnonzero(named == feature)
        column = values[feature]
        picked = list(map(column.__getitem__, rows[at].tolist()))
        kinds = set(map(type, picked))
        if kinds == {str}:
            labels[at] = picked
        elif len(kinds - {type(None)}) <= 1:  # one kind of value (and None): equal values label alike
            label = {value: value_label(value) for value in set(picked)}
            labels[at] = list(map(label.__getitem__, picked))
        else:
            labels[at] = list(map(value_label, picked))
    entries = [
        [name, label, contribution]
        for name, label, contribution in zip(
            np.asarray(names, dtype=object)[named].tolist(), labels.tolist(), np.concatenate([up_by, down_by], axis=1)[kept].tolist(), strict=True
        )
    ]
    out: list[ReasonLists | None] = []
    append = out.append
    start = 0
    for up_count, down_count in zip(raising, lowering, strict=True):
        if up_count or down_count:
            middle = start + up_count
            end = middle + down_count
            append({"raising": entries[start:middle], "lowering": entries[middle:end]})
            start = end
        else:
            append(None)
    return out


def training_means(pipeline: Any, encoder: RowEncoder, probe_rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    means = getattr(pipeline, TRAINING_MEANS, None)
    if means is not None and len(means) == encoder.width:
        return np.asarray(means, dtype=np.float64)
    log.warning("the pipeline carries no training means; linear contributions are centred on the probe rows instead")
    if not probe_rows:
        return np.zeros(encoder.width)
    return encoder.matrix(probe_rows).mean(axis=0)
