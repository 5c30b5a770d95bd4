"""The compiled inner loops give NumPy's answers to the bit (issue #19, "the rest of a search's cost at 1M").

The engine's own tests compare whole searches with Whoosh's scorer; these pin each loop to the NumPy expression
it replaced, on arrays of every shape a search meets: empty, one element, ids repeated or out of order.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine import kernels
from engine.scoring import bm25, length_norms

ids_arrays = hnp.arrays(np.int32, st.integers(0, 300), elements=st.integers(0, 5_000))


@settings(max_examples=300, deadline=None)
@given(ids_arrays, ids_arrays, st.booleans())
def test_locating_ids_in_a_list_answers_as_searchsorted(ids, within, ascending):
    within = np.unique(within)
    ids = np.sort(ids) if ascending else ids
    found, places = kernels.locate(ids, within) if len(within) else (None, None)
    if not len(within):
        return
    expected = np.minimum(np.searchsorted(within, ids), len(within) - 1)
    assert places.tolist() == expected.tolist()
    assert found.tolist() == (within[expected] == ids).tolist()


def test_a_short_list_looked_up_in_a_long_one_and_two_lists_alike_in_length():
    rng = np.random.default_rng(7)
    long = np.unique(rng.integers(0, 2_000_000, 400_000)).astype(np.int32)
    for count in (1, 50, 20_000, 400_000):
        ids = np.sort(rng.choice(2_000_000, count, replace=False)).astype(np.int64)
        found, places = kernels.locate(ids, long)
        expected = np.minimum(np.searchsorted(long, ids), len(long) - 1)
        assert np.array_equal(places, expected) and np.array_equal(found, long[expected] == ids)


@settings(max_examples=100, deadline=None)
@given(ids_arrays, st.integers(-10, 6_000), st.integers(-10, 6_000))
def test_a_span_of_document_numbers_is_where_searchsorted_puts_its_ends(ids, low, high):
    ids = np.unique(ids)
    assert kernels.span(ids, low, high) == tuple(np.searchsorted(ids, (low, high)).tolist())


@settings(max_examples=100, deadline=None)
@given(
    hnp.arrays(np.float32, st.integers(0, 200), elements=st.integers(1, 40).map(float)),
    st.floats(0.1, 12.0),
    st.sampled_from([1.0, 0.5, 1.7, 0.05]),
    st.floats(1.0, 400.0),
)
def test_a_terms_scores_equal_numpys_bm25_to_the_bit(tfs, idf, boost, average_length):
    rng = np.random.default_rng(len(tfs))
    length_bytes = rng.integers(0, 256, 1_000).astype(np.uint8)
    ids = np.sort(rng.choice(1_000, len(tfs), replace=False)).astype(np.int32)
    norms = length_norms(average_length)
    expected = bm25(idf, tfs, norms[length_bytes[ids]], boost)
    assert kernels.term_scores(tfs, ids, length_bytes, norms, idf, boost).tobytes() == expected.tobytes()


def test_best_and_summed_scores_laid_out_over_a_range_equal_numpys():
    rng = np.random.default_rng(3)
    low, high = 1_000, 3_000
    lists = [np.sort(rng.choice(np.arange(low, high), 400, replace=False)).astype(np.int32) for _ in range(3)]
    scores = [rng.random(400) * 9 for _ in range(3)]
    best, totals, found = np.full(high - low, -np.inf), np.zeros(high - low), np.zeros(high - low, dtype=bool)
    expected_best, expected_totals, expected_found = best.copy(), totals.copy(), found.copy()
    for ids, values in zip(lists, scores):
        kernels.keep_best(best, ids, values, low)
        kernels.add_scores(totals, ids, values, low)
        kernels.mark(found, ids, low)
        expected_best[ids - low] = np.maximum(expected_best[ids - low], values)
        expected_totals[ids - low] += values
        expected_found[ids - low] = True
    assert best.tobytes() == expected_best.tobytes()
    assert totals.tobytes() == expected_totals.tobytes()
    assert np.array_equal(found, expected_found)


@settings(max_examples=200, deadline=None)
@given(ids_arrays, ids_arrays)
def test_intersecting_two_lists_keeps_the_common_ids_with_their_scores_added_as_numpy_adds_them(ids, other_ids):
    ids, other_ids = np.unique(ids), np.unique(other_ids)
    rng = np.random.default_rng(len(ids) * 7 + len(other_ids))
    scores, other_scores = rng.random(len(ids)) * 5, rng.random(len(other_ids)) * 5
    kept_ids, kept_scores = kernels.intersect(ids, scores, other_ids, other_scores)
    found = np.isin(ids, other_ids)
    places = np.searchsorted(other_ids, ids[found])
    assert kept_ids.tolist() == ids[found].tolist()
    assert kept_scores.tobytes() == (scores[found] + other_scores[places]).tobytes()


@settings(max_examples=100, deadline=None)
@given(ids_arrays, ids_arrays, st.sampled_from([1.0, 0.3]))
def test_a_terms_scores_on_given_documents_equal_numpys_bm25_there(ids, term_ids, boost):
    ids, term_ids = np.unique(ids), np.unique(term_ids)
    rng = np.random.default_rng(len(ids))
    tfs = rng.integers(1, 9, len(term_ids)).astype(np.float32)
    length_bytes = rng.integers(0, 256, 5_001).astype(np.uint8)
    norms = length_norms(37.5)
    found, scores = kernels.term_scores_at(ids, term_ids, tfs, length_bytes, norms, 2.5, boost)
    holds = np.isin(ids, term_ids)
    expected = np.zeros(len(ids))
    expected[holds] = bm25(2.5, tfs[np.searchsorted(term_ids, ids[holds])], norms[length_bytes[ids[holds]]], boost)
    assert found.tolist() == holds.tolist()
    assert scores.tobytes() == expected.tobytes()
