"""The learned order of the fused candidates (issue #16): its features, its file, its fitting, and the product
ordering by it, or by reciprocal rank fusion when it is turned off or missing."""

import json
import logging

import numpy as np
import pytest
from conftest import settings_for
from test_semantic import imported, needs_model, ranked

from app import create_app
from bench.rerank_fit import FOLDS, TrainingQuery, fit_weights, fold_of, mean_rr_by_group, standardisation
from engine import rerank
from engine.embedding import DEFAULT_MODEL


def feature(matrix, row, name):
    return matrix[row, rerank.FEATURES.index(name)]


def _no_words_held(docnums):
    return np.zeros((len(docnums), len(rerank.COVERAGE_FEATURES)))


def test_the_share_of_the_query_each_call_holds_is_asked_for_every_candidate_in_their_order():
    asked = []

    def coverage_of(docnums):
        asked.append(list(docnums))
        return np.array([[docnum / 10, docnum / 100, docnum / 1000] for docnum in docnums])

    docnums, matrix = rerank.candidate_features([(4, 3.0)], [(7, 0.8)], lambda docnum: 0.1, 2, coverage_of)
    assert asked == [[4, 7]] and docnums == [4, 7]
    assert feature(matrix, 1, "query_weight_held") == 0.7
    assert feature(matrix, 1, "title_words_held") == 0.07
    assert feature(matrix, 1, "word_pairs_held") == 0.007


def test_a_call_only_the_words_found_gets_its_similarity_asked_and_no_meaning_rank():
    asked = []

    def similarity_of(docnum):
        asked.append(docnum)
        return 0.25

    docnums, matrix = rerank.candidate_features(
        [(1, 8.0), (2, 4.0)], [(3, 0.9), (1, 0.5)], similarity_of, 3, _no_words_held
    )
    assert docnums == [1, 2, 3]
    assert asked == [2]
    assert feature(matrix, 1, "meaning_rank") == 0.0
    assert feature(matrix, 1, "similarity") == 0.25
    assert feature(matrix, 1, "words_score") == 0.5
    assert feature(matrix, 2, "words_rank") == 0.0
    assert feature(matrix, 2, "similarity_below_best") == 0.0
    assert feature(matrix, 0, "in_both") == 1.0
    assert feature(matrix, 2, "in_both") == 0.0


def test_equal_scores_share_a_rank_and_a_call_without_a_vector_counts_as_dissimilar():
    docnums, matrix = rerank.candidate_features(
        [(1, 5.004), (2, 5.001), (3, 2.0)], [], lambda docnum: None, 1, _no_words_held
    )
    assert feature(matrix, 0, "words_rank") == feature(matrix, 1, "words_rank") == 60 / 61
    assert feature(matrix, 2, "words_rank") == 60 / 63
    assert set(matrix[:, rerank.FEATURES.index("similarity")]) == {0.0}


def test_query_length_grows_from_one_word_to_a_pasted_message():
    assert rerank.query_length(1) == 0.0
    assert 0 < rerank.query_length(3) < rerank.query_length(10) < 1
    assert rerank.query_length(40) == 1.0


def test_the_file_round_trips_and_a_file_with_other_features_is_refused_with_a_log_line(tmp_path, caplog):
    count = len(rerank.FEATURES)
    model = rerank.LinearReranker(np.arange(count), np.zeros(count), np.ones(count))
    path = tmp_path / "rerank.json"
    path.write_text(json.dumps(model.to_json()), encoding="utf-8")
    loaded = rerank.load_reranker("any", path)
    rows = np.random.default_rng(1).random((4, len(rerank.FEATURES)))
    assert loaded.scores(rows).tolist() == model.scores(rows).tolist()
    data = model.to_json()
    data["features"] = {"words_rank": data["features"]["words_rank"]}
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert rerank.load_reranker("any", path) is None
    assert "unusable" in caplog.text and "reciprocal rank" in caplog.text
    assert rerank.load_reranker("no-such-model") is None


def test_the_shipped_file_of_the_default_model_loads_and_says_how_it_was_fitted():
    shipped = rerank.load_reranker(DEFAULT_MODEL)
    assert shipped is not None
    assert shipped.about["command"] == "python -m bench.rerank_train"
    assert "tune" in shipped.about["training"]


def test_fitting_learns_the_feature_that_tells_answers_apart():
    rng = np.random.default_rng(7)
    queries = []
    for number in range(60):
        matrix = rng.random((10, len(rerank.FEATURES)))
        answers = np.zeros(10, dtype=bool)
        answers[rng.integers(10)] = True
        matrix[answers, 3] += 1.0  # only "similarity" tells the answer apart
        queries.append(TrainingQuery(qid=str(number), group="g", matrix=matrix, answers=answers))
    mean, scale = standardisation(queries)
    weights = fit_weights(queries, mean, scale, penalty=1.0)
    assert np.argmax(np.abs(weights)) == 3 and weights[3] > 0
    model = rerank.LinearReranker(weights, mean, scale)
    assert mean_rr_by_group(queries, model.scores) == {"g": 1.0}


def test_cross_validation_keeps_every_variant_of_a_query_in_one_fold():
    matrix, answers = np.zeros((2, len(rerank.FEATURES))), np.array([True, False])
    folds_by_source = {}
    for number in range(200):
        for variant in ("clean", "typos", "british"):
            group = f"set/{variant}"
            query = TrainingQuery(f"{group}/Q{number}", group, matrix, answers, source=f"set/Q{number}")
            folds_by_source.setdefault(query.source, set()).add(fold_of(query))
    assert all(len(folds) == 1 for folds in folds_by_source.values())
    assert {fold for (fold,) in folds_by_source.values()} == set(range(FOLDS))


def test_fitting_without_a_single_usable_query_says_so():
    matrix = np.zeros((3, len(rerank.FEATURES)))
    query = TrainingQuery(qid="q", group="g", matrix=matrix, answers=np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="no training query"):
        fit_weights([query], np.zeros(12), np.ones(12), 1.0)


@needs_model
def test_the_product_orders_by_the_re_ranker_and_by_rank_fusion_when_it_is_turned_off(tmp_path):
    folder = tmp_path / "kb"
    imported(folder)
    reranked = create_app(settings_for(folder, KB_SEMANTIC=True, KB_EMBED_IN_SERVER=False))
    fused = create_app(settings_for(folder, KB_SEMANTIC=True, KB_EMBED_IN_SERVER=False, KB_RERANK=False))
    again = create_app(settings_for(folder, KB_SEMANTIC=True, KB_EMBED_IN_SERVER=False))
    try:
        assert reranked.extensions["kb"].search.semantic.reranker is not None
        assert fused.extensions["kb"].search.semantic.reranker is None
        differs = False
        for text in ("printer wont print", "the screen goes black", "noisy pc", "outlok keeps crashing"):
            first = ranked(reranked, text)
            assert first == ranked(again, text)
            assert first, text
            by_rank_fusion = ranked(fused, text)
            differs = differs or [hit[0] for hit in first] != [hit[0] for hit in by_rank_fusion]
        assert differs
    finally:
        for app in (reranked, fused, again):
            app.extensions["kb"].close()


def test_the_re_ranker_orders_queries_of_two_words_or_more_that_the_meaning_found_calls_for():
    found = [(0.7, {"id": "A"}, 1)]
    assert rerank.fits(2, found) and rerank.fits(6, found)
    assert not rerank.fits(1, found)  # no tune query had one word: the weights would be extrapolated
    assert not rerank.fits(3, [])  # nothing to order the words' calls against (vectors not computed yet)


@needs_model
def test_one_word_and_not_yet_embedded_searches_keep_rank_fusion_and_the_words_order(tmp_path):
    folder = tmp_path / "kb"
    imported(folder, embed=False)
    reranked = create_app(settings_for(folder, KB_SEMANTIC=True, KB_EMBED_IN_SERVER=False))
    fused = create_app(settings_for(folder, KB_SEMANTIC=True, KB_EMBED_IN_SERVER=False, KB_RERANK=False))
    try:
        for text in ("printer", "outlook", "printer wont print", "screen goes black"):
            assert ranked(reranked, text) == ranked(fused, text), text
    finally:
        for app in (reranked, fused):
            app.extensions["kb"].close()
