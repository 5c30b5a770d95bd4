"""The learned order of the fused candidates: a linear model over what each ranking says of a call (issue #16).

Reciprocal rank fusion weighs the words' ranking and the meaning's alike on every query. The re-ranker looks at
how sure each ranking is: the words' score against their best, the meaning's similarity against its best, how
long the query is (a pasted error message is found by its words, a caller's description by its meaning), and
scores every candidate of either ranking by a weighted sum of those features. The weights are fitted on the tune
split of ``bench.relevance``'s query sets by ``python -m bench.rerank_train`` and shipped with the code, one file
per embedding model (``engine/data/rerank-<model>.json``), so every server orders alike. Without a file for the
model in use, the fusion stays reciprocal rank fusion.
"""

import json
import logging
import math
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).with_name("data")
# The reciprocal rank of a hit is RANK_K / (RANK_K + rank): 1 near the top, 0 for a call the ranking did not list.
RANK_K = 60
# The tune queries the weights were fitted on have two words or more; a one-word query (every as-you-type first
# word among them) is fused by reciprocal rank, as the weights would be extrapolated there.
MIN_QUERY_WORDS = 2
# Query length is counted in words up to this many (an error message pasted whole is about as long).
LONG_QUERY_WORDS = 20
# What the two rankings say of each candidate, in the order candidate_features builds them.
RANKING_FEATURES = (
    "words_rank",
    "meaning_rank",
    "words_score",
    "similarity",
    "similarity_below_best",
    "in_both",
    "words_rank_x_length",
    "meaning_rank_x_length",
    "words_score_x_length",
    "similarity_x_length",
    "words_score_x_words_margin",
    "similarity_x_best_similarity",
)
# What ``engine.coverage.coverage`` tells of each candidate, in its columns' order.
COVERAGE_FEATURES = ("query_weight_held", "title_words_held", "word_pairs_held")
FEATURES = RANKING_FEATURES + COVERAGE_FEATURES


def fits(word_count, meaning):
    """Whether the re-ranker orders a query's candidates: two words or more, and calls found by meaning to order
    with the words' (without them, while the vectors are still being computed, the words' order stands)."""
    return word_count >= MIN_QUERY_WORDS and bool(meaning)


def query_length(word_count):
    """How long a query is, from 0 (one word) to 1 (``LONG_QUERY_WORDS`` or more), on a log scale."""
    return min(1.0, math.log(max(1, word_count)) / math.log(LONG_QUERY_WORDS))


def reciprocal_ranks(scores, digits):
    """``RANK_K / (RANK_K + rank)`` for scores best first, equal scores (to ``digits``) sharing the first one's rank."""
    ranks, previous, rank = [], None, 0
    for position, score in enumerate(scores, start=1):
        rounded = round(score, digits)
        if rounded != previous:
            previous, rank = rounded, position
        ranks.append(RANK_K / (RANK_K + rank))
    return ranks


def candidate_features(words, meaning, similarity_of, word_count, coverage_of, digits=(2, 6)):
    """The features of every call either ranking brought, one row per call.

    :param words: ``(docnum, score)`` of the words' ranking, best first.
    :param meaning: ``(docnum, similarity)`` of the meaning's ranking, best first.
    :param similarity_of: docnum → the call's similarity to the query (None when it has no vector yet); asked
        only for calls the meaning did not rank.
    :param word_count: words in the query.
    :param coverage_of: docnums → the share of the query each call holds anywhere (by its words' weight), of its
        words in its title, and of its pairs of adjacent words side by side in its title or problem
        (``engine.coverage.coverage``: an ``n × 3`` array).
    :param digits: decimals at which scores and similarities are equal (shared ranks).
    :returns: ``(docnums, matrix)``: the calls (words' ranking first, then the meaning's new ones) and a float64
        array of ``len(docnums) × len(FEATURES)``.
    """
    words_rank = dict(zip((d for d, _ in words), reciprocal_ranks([s for _, s in words], digits[0])))
    meaning_rank = dict(zip((d for d, _ in meaning), reciprocal_ranks([s for _, s in meaning], digits[1])))
    best_words = words[0][1] if words and words[0][1] > 0 else 1.0
    words_score = {docnum: score / best_words for docnum, score in words}
    margin = 1.0 - words[1][1] / best_words if len(words) > 1 else 1.0
    similarity = dict(meaning)
    docnums = [docnum for docnum, _ in words] + [docnum for docnum, _ in meaning if docnum not in words_score]
    for docnum in docnums:
        if docnum not in similarity:
            similarity[docnum] = similarity_of(docnum)
    known = [value for value in similarity.values() if value is not None]
    best_similarity = max(known) if known else 0.0
    length = query_length(word_count)
    rows = []
    for docnum in docnums:
        w_rank, m_rank = words_rank.get(docnum, 0.0), meaning_rank.get(docnum, 0.0)
        w_score = words_score.get(docnum, 0.0)
        sim = similarity[docnum] if similarity[docnum] is not None else 0.0
        rows.append(
            (
                w_rank,
                m_rank,
                w_score,
                sim,
                sim - best_similarity,
                float(w_rank > 0 and m_rank > 0),
                w_rank * length,
                m_rank * length,
                w_score * length,
                sim * length,
                w_score * margin,
                sim * best_similarity,
            )
        )
    matrix = np.array(rows, dtype=np.float64).reshape(len(docnums), len(RANKING_FEATURES))
    shares = np.asarray(coverage_of(docnums), dtype=np.float64).reshape(len(docnums), len(COVERAGE_FEATURES))
    return docnums, np.hstack([matrix, shares])


class LinearReranker:
    """Scores candidates by ``weights · (features - mean) / scale``; the order is what counts, not the value."""

    def __init__(self, weights, mean, scale, about=None):
        """
        :param weights: one weight per name of ``FEATURES``.
        :param mean: the features' means on the training rows (subtracted first).
        :param scale: their standard deviations (divided by).
        :param about: what the file says of how it was fitted (kept for ``/healthz`` and the docs).
        """
        self.weights = np.asarray(weights, dtype=np.float64)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.about = about or {}

    def scores(self, matrix):
        """The score of each row of a feature matrix (float64)."""
        return ((matrix - self.mean) / self.scale) @ self.weights

    def to_json(self):
        """The model as a JSON-ready dict: the feature names with their weight, mean and scale."""
        return {
            "features": {
                name: {"weight": float(w), "mean": float(m), "scale": float(s)}
                for name, w, m, s in zip(FEATURES, self.weights, self.mean, self.scale)
            },
            "about": self.about,
        }

    @classmethod
    def from_json(cls, data):
        """The model from :meth:`to_json`'s dict; ValueError when its features are not this module's."""
        features = data.get("features") or {}
        if tuple(features) != FEATURES:
            raise ValueError(f"the file's features {list(features)} are not {list(FEATURES)}")
        values = [features[name] for name in FEATURES]
        scale = [value["scale"] if value["scale"] > 0 else 1.0 for value in values]
        return cls([v["weight"] for v in values], [v["mean"] for v in values], scale, data.get("about"))


def model_path(model_name):
    """The shipped re-ranker file of an embedding model."""
    return DATA_DIR / f"rerank-{model_name}.json"


def load_reranker(model_name, path=None):
    """The shipped re-ranker for an embedding model, or None (said in the log) when there is none or it is bad.

    :param model_name: one of ``engine.embedding.MODEL_NAMES``.
    :param path: a file to read instead of the shipped one.
    """
    path = Path(path) if path else model_path(model_name)
    if not path.is_file():
        log.info("no re-ranker for %s (%s): candidates are fused by reciprocal rank", model_name, path.name)
        return None
    try:
        return LinearReranker.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        log.warning("re-ranker %s is unusable (%s): candidates are fused by reciprocal rank", path, error)
        return None
