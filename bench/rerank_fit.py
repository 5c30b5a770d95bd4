"""Fitting the linear re-ranker (``engine.rerank``): pairwise logistic regression over candidate features.

Each training query gives its candidates' feature rows and which of them answer it. Every pair (an answer, a
candidate that is not one) is an example whose features are the difference of the two rows; the weights that
make answers outscore the rest are fitted by Newton's method with an L2 penalty. Each query weighs the same
within its group (a query set and variant), and each group the same, so the 1,200 StackFAQ queries do not
outvote the 100 GitBugs ones. The penalty is chosen by cross-validation over folds of the training queries.
"""

import hashlib
from dataclasses import dataclass

import numpy as np

PENALTIES = (0.01, 0.1, 1.0, 10.0, 100.0)
FOLDS = 5
NEWTON_STEPS = 30
TOP_K = 10


@dataclass(frozen=True)
class TrainingQuery:
    """One query's candidates: their features, whether each answers the query, and the query's group.

    ``source`` names the query its set's variants (clean, typos, British) were all made from; cross-validation keeps
    them in one fold, so a query's misspelt copy is never trained on while the query itself is scored. Empty: the
    query stands alone (its ``qid``).
    """

    qid: str
    group: str
    matrix: np.ndarray
    answers: np.ndarray
    source: str = ""


def standardisation(queries):
    """The mean and standard deviation of every feature over all candidates (scale 1 where a feature is constant)."""
    rows = np.vstack([query.matrix for query in queries])
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    return mean, np.where(scale > 1e-12, scale, 1.0)


def _pairs(queries, mean, scale):
    """Difference rows (answer minus other) and their weights: each group sums to 1, each query equal in it."""
    per_group = {}
    for query in queries:
        if query.answers.any() and not query.answers.all():
            per_group[query.group] = per_group.get(query.group, 0) + 1
    differences, weights = [], []
    for query in queries:
        if query.group not in per_group or not query.answers.any() or query.answers.all():
            continue
        standard = (query.matrix - mean) / scale
        good, bad = standard[query.answers], standard[~query.answers]
        pairs = (good[:, None, :] - bad[None, :, :]).reshape(-1, standard.shape[1])
        differences.append(pairs)
        weights.append(np.full(len(pairs), 1.0 / (len(pairs) * per_group[query.group])))
    if not differences:
        raise ValueError("no training query has both an answer and another call among its candidates")
    return np.vstack(differences), np.concatenate(weights)


def fit_weights(queries, mean, scale, penalty):
    """Weights minimising the weighted pairwise logistic loss plus ``penalty / 2 · |w|²`` (Newton's method)."""
    differences, weights = _pairs(queries, mean, scale)
    weights = weights / weights.sum()
    w = np.zeros(differences.shape[1])
    for _ in range(NEWTON_STEPS):
        margins = differences @ w
        p = 1.0 / (1.0 + np.exp(np.clip(margins, -30, 30)))
        gradient = -(differences * (weights * p)[:, None]).sum(axis=0) + penalty * w / len(differences)
        curvature = weights * p * (1.0 - p)
        hessian = (differences * curvature[:, None]).T @ differences
        hessian += np.eye(len(w)) * (penalty / len(differences) + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def reciprocal_rank(scores, answers):
    """1 / rank of the first answer among the candidates ordered by ``scores`` (ties: input order), 0 past 10."""
    order = np.argsort(-scores, kind="stable")
    hits = np.flatnonzero(answers[order][:TOP_K])
    return 1.0 / (hits[0] + 1) if len(hits) else 0.0


def mean_rr_by_group(queries, score):
    """``{group: MRR@10}`` with ``score(matrix) -> scores`` ordering each query's candidates."""
    by_group = {}
    for query in queries:
        by_group.setdefault(query.group, []).append(reciprocal_rank(score(query.matrix), query.answers))
    return {group: float(np.mean(values)) for group, values in sorted(by_group.items())}


def fold_of(query):
    """The cross-validation fold of a training query: by a hash of its source, so its variants share a fold."""
    key = query.source or query.qid
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % FOLDS


def choose_penalty(queries, mean, scale, penalties=PENALTIES):
    """The penalty with the best mean of group MRRs over ``FOLDS`` folds of the queries (split by :func:`fold_of`).

    :returns: ``(penalty, {penalty: mean MRR})``.
    """
    results = {}
    for penalty in penalties:
        by_group = {}
        for fold in range(FOLDS):
            train = [query for query in queries if fold_of(query) != fold]
            test = [query for query in queries if fold_of(query) == fold]
            w = fit_weights(train, mean, scale, penalty)
            for query in test:
                rr = reciprocal_rank(((query.matrix - mean) / scale) @ w, query.answers)
                by_group.setdefault(query.group, []).append(rr)
        results[penalty] = float(np.mean([np.mean(values) for values in by_group.values()]))
    return max(results, key=lambda penalty: (results[penalty], penalty)), results
