"""Path-dependent TreeSHAP as lookup tables, exact (what `shap.TreeExplainer(model,
feature_perturbation="tree_path_dependent")` computes, checked against it in the tests).

A leaf's share of the SHAP values depends on a row only through which of the splits on its path the row
follows (Lundberg et al. 2018, algorithm 2: per distinct column j on the path, z_j is the fraction of the
training cover that follows j's splits, o_j is 1 when the row follows them all, else 0):

    phi_i += v * (o_i - z_i) * sum over S of the path's other columns of |S|! (m - |S| - 1)! / m!
             * prod(o_j, j in S) * prod(z_j, j not in S)

So a tree's SHAP values are a function of the row's direction at each of its splits. A unit is up to
MAX_BITS splits with a table of 2^bits rows (every direction pattern) by original feature (encoded
columns summed back to their feature at load): a whole tree when it has at most MAX_BITS splits (a
depth-3 boosting stage has 7), else one unit per leaf, over the splits on its path. Explaining rows is
then per unit: compare the row at its splits, pack the directions into a byte, add that row of the
table; one sparse product for all the units. shap walks every path of every tree for every row."""

from __future__ import annotations

from math import factorial
from typing import Any, Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix

MAX_BITS = 8
"""Splits per unit: the row's directions are packed into one byte."""
MAX_TABLE_BYTES = 128 * 1024 * 1024
"""Above this the tables are not built (each unit has 2^bits rows of float64 per feature): 100
depth-3 boosting stages on Telco take 1.9 MB, a depth-6 tree's 47 leaves 0.5 MB."""
CHUNK_ROWS = 1024
DENSE_ROWS = 16
"""Up to this many rows, the table rows are gathered and summed by NumPy: building the sparse matrix
costs more than that (a prediction's reasons: ~60 -> ~20 µs)."""


class NotTabulable(Exception):
    """A path deeper than MAX_BITS or tables beyond MAX_TABLE_BYTES: shap itself explains the model."""


class TreeShapTables:
    """The units of every tree, stacked: `features`/`thresholds` (units x bits) are the splits each
    unit reads (padding: column 0 against +inf, never right), `tables` ((units x 2^bits) x features)."""

    def __init__(self, trees: Sequence[Any], scale: float, node_values: Callable[[np.ndarray], np.ndarray], owner: np.ndarray, n_features: int) -> None:
        units: list[tuple[list[int], list[float], np.ndarray]] = []
        for estimator in trees:
            units.extend(_units(estimator.tree_, scale * node_values(estimator.tree_.value), owner, n_features))
        bits = max((len(f) for f, _, _ in units), default=0)
        if units and (len(units) << bits) * n_features * 8 > MAX_TABLE_BYTES:
            raise NotTabulable(f"{len(units)} units of {bits} splits: tables too large")
        self.bits = bits
        self.n_features = n_features
        self.features = np.zeros((len(units), bits), dtype=np.intp)
        self.thresholds = np.full((len(units), bits), np.inf)
        tables = np.zeros((len(units) << bits, n_features))
        for u, (features, thresholds, table) in enumerate(units):
            self.features[u, : len(features)] = features
            self.thresholds[u, : len(thresholds)] = thresholds
            tables[u << bits : (u << bits) + len(table)] = table
        self.tables = tables
        self._offsets = (np.arange(len(units), dtype=np.intp) << bits)[None, :]
        self._flat_features = self.features.ravel()
        self._flat_thresholds = self.thresholds.ravel()

    def values(self, x: np.ndarray) -> np.ndarray:
        """(rows x features) SHAP values, summed per feature, of encoded rows (compared in float32, as
        scikit-learn's trees compare them)."""
        parts = [self._chunk(x[start : start + CHUNK_ROWS]) for start in range(0, len(x), CHUNK_ROWS)]
        return np.concatenate(parts) if parts else np.zeros((0, self.n_features))

    def _chunk(self, x: np.ndarray) -> np.ndarray:
        """A column of the transposed rows per split (contiguous, so one gather of whole rows), the
        directions summed into a code per unit and row, the codes' table rows added by one sparse
        product (the units in order for every row, whatever the chunk)."""
        n, units = len(x), len(self.features)
        if not units:
            return np.zeros((n, self.n_features))
        columns = np.ascontiguousarray(x.T, dtype=np.float32)
        right = (columns[self._flat_features] > self._flat_thresholds[:, None]).reshape(units, self.bits, n).view(np.uint8)
        code = right[:, 0, :].copy()
        for k in range(1, self.bits):
            code |= right[:, k, :] << k
        codes = np.add(code.T, self._offsets, dtype=np.intp)
        if n <= DENSE_ROWS:  # the same sums, in the same order (tested), without building a sparse matrix
            return self.tables[codes].sum(axis=1)
        picks = csr_matrix((np.ones(n * units), codes.ravel(), np.arange(0, n * units + 1, units)), shape=(n, len(self.tables)))
        return np.asarray(picks @ self.tables)


def _units(tree: Any, values: np.ndarray, owner: np.ndarray, n_features: int) -> list[tuple[list[int], list[float], np.ndarray]]:
    """(split columns, thresholds, table) of the tree: itself when it has at most MAX_BITS splits, else its leaves."""
    splits = [int(n) for n in np.flatnonzero(tree.children_left != -1)]
    if not splits:
        return []
    paths = _paths(tree)
    cover = tree.weighted_n_node_samples
    if len(splits) <= MAX_BITS:
        bit_of = {node: k for k, node in enumerate(splits)}
        patterns = np.arange(1 << len(splits))
        table = np.zeros((len(patterns), n_features))
        for leaf, path in paths:
            leaf_table = _leaf_table(path, values[leaf], cover, tree.feature, owner, n_features)
            index = np.zeros(len(patterns), dtype=np.intp)
            for k, (node, _, _) in enumerate(path):
                index |= ((patterns >> bit_of[node]) & 1) << k
            table += leaf_table[index]
        return [([int(tree.feature[n]) for n in splits], [float(tree.threshold[n]) for n in splits], table)]
    units = []
    for leaf, path in paths:
        if len(path) > MAX_BITS:
            raise NotTabulable(f"a path of {len(path)} splits")
        table = _leaf_table(path, values[leaf], cover, tree.feature, owner, n_features)
        units.append(([int(tree.feature[n]) for n, _, _ in path], [float(tree.threshold[n]) for n, _, _ in path], table))
    return units


Path = list[tuple[int, bool, int]]
"""(split node, goes right, the child it goes to) from the root down to a leaf."""


def _paths(tree: Any) -> list[tuple[int, Path]]:
    """(leaf, its path) for every leaf."""
    out: list[tuple[int, Path]] = []
    stack: list[tuple[int, Path]] = [(0, [])]
    left, right = tree.children_left, tree.children_right
    while stack:
        node, path = stack.pop()
        if left[node] == -1:
            out.append((node, path))
            continue
        stack.append((int(right[node]), [*path, (node, True, int(right[node]))]))
        stack.append((int(left[node]), [*path, (node, False, int(left[node]))]))
    return out


def _leaf_table(path: Path, value: float, cover: np.ndarray, feature: np.ndarray, owner: np.ndarray, n_features: int) -> np.ndarray:
    """(2^len(path) x features): the leaf's SHAP values for every pattern of directions at its splits
    (bit k: the row goes right at the k-th split from the root)."""
    columns: list[int] = []
    zero: dict[int, float] = {}
    steps: list[tuple[int, bool]] = []  # (the split's column, goes right) along the path
    for node, goes_right, child in path:
        column = int(feature[node])
        if column not in zero:
            columns.append(column)
            zero[column] = 1.0
        zero[column] *= float(cover[child]) / float(cover[node])
        steps.append((column, goes_right))
    m = len(columns)
    weights = [factorial(s) * factorial(m - s - 1) / factorial(m) for s in range(m)]
    table = np.zeros((1 << len(path), n_features))
    by_ones: dict[tuple[int, ...], list[float]] = {}
    for pattern in range(1 << len(path)):
        follows = dict.fromkeys(columns, 1)
        for k, (column, goes_right) in enumerate(steps):
            if bool((pattern >> k) & 1) != goes_right:
                follows[column] = 0
        ones = tuple(follows[c] for c in columns)
        phi = by_ones.get(ones)
        if phi is None:
            phi = by_ones[ones] = _leaf_phi(value, [zero[c] for c in columns], ones, weights)
        row = table[pattern]
        for column, contribution in zip(columns, phi, strict=True):
            row[owner[column]] += contribution
    return table


def _leaf_phi(value: float, zero: Sequence[float], one: Sequence[int], weights: Sequence[float]) -> list[float]:
    """Each path column's share of the leaf: value * (o_i - z_i) * sum_s weights[s] * e_s, e_s the
    sum over the other columns' subsets S of size s of prod(o, S) * prod(z, not S)."""
    m = len(zero)
    out = []
    for i in range(m):
        poly = [1.0]  # coefficients in t of prod over j != i of (z_j + o_j t)
        for j in range(m):
            if j == i:
                continue
            z, o = zero[j], one[j]
            nxt = [c * z for c in poly] + [0.0]
            if o:
                for s, c in enumerate(poly):
                    nxt[s + 1] += c
            poly = nxt
        total = sum(w * c for w, c in zip(weights, poly, strict=True))
        out.append(value * (one[i] - zero[i]) * total)
    return out
