"""How much of the query a call holds (``engine.coverage``), the re-ranker's two lexical features (issue #16):
every typed word counted once, by any of its alternatives: in the whole call by its weight, in its title by number."""

import random

import numpy as np
import pytest
from sample_kb import edited_knowledge_base, indexed_knowledge_base, live_docnums, sample_records

from analyzers.pipeline import text_pipeline, text_terms
from engine.coverage import coverage, pair_options, pairs_held, word_weights, words_held, words_in_title
from engine.service import SearchService
from engine.sources import SynonymsFile
from engine.vocabulary import VocabularyCache
from index.schema import catch_all_text

CALLS = [
    {
        "id": "C-1",
        "title": "Brother printer prints with a green tint",
        "problem": "Photos come out greenish.",
        "resolution": "Ran colour calibration from the menu.",
    },
    {
        "id": "C-2",
        "title": "Epson lines across the page",
        "problem": "White lines through the text.",
        "resolution": "Nozzle check showed gaps; two head cleanings fixed the printer.",
    },
    {
        "id": "C-3",
        "title": "Outlook asks for the password again",
        "problem": "Prompted every hour.",
        "resolution": "Cleared the saved credentials.",
    },
]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    records = [{**call, "created_at": "2025-01-01T00:00:00+00:00"} for call in CALLS]
    kb = indexed_knowledge_base(tmp_path_factory.mktemp("coverage"), records)
    yield SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
    kb.close()


def _all_shares(service, text):
    """``{call id: (share anywhere, share in the title, share of word pairs side by side)}`` for every call."""
    opened = service.opened()
    plan = service.plan(text, opened)
    docnums = list(range(opened.searcher.doc_count_all()))
    stored = [opened.fields.fields(docnum) for docnum in docnums]
    shares = coverage(opened.searcher, opened.stats, service.postings, plan, docnums, stored)
    return {s["id"]: tuple(row) for s, row in zip(stored, shares.tolist())}


def _shares(service, text):
    """``{call id: (share anywhere, share in the title)}`` for every call of the index."""
    return {call_id: row[:2] for call_id, row in _all_shares(service, text).items()}


def _pair_shares(service, text):
    """``{call id: share of the query's adjacent word pairs the call holds side by side}``."""
    return {call_id: row[2] for call_id, row in _all_shares(service, text).items()}


def test_each_word_counts_once_in_the_call_by_its_weight_and_in_its_title_by_number(service):
    shares = _shares(service, "printer nozzle tint")
    # C-1 holds printer and tint (both in its title), C-2 nozzle and printer (in its resolution only): each holds the
    # common word and one of the two rare ones.
    assert shares["C-1"][0] == pytest.approx(shares["C-2"][0])
    assert 0 < shares["C-1"][0] < 1
    assert shares["C-1"][1] == pytest.approx(2 / 3)
    assert shares["C-2"][1] == 0.0
    assert shares["C-3"] == (0.0, 0.0)


def test_a_rare_word_weighs_more_than_a_common_one(service):
    opened = service.opened()
    plan = service.plan("printer tint", opened)
    weights = word_weights(opened.stats, plan)
    assert weights[1] > weights[0] > 0  # tint is in one call, printer in two
    shares = _shares(service, "printer tint")
    assert shares["C-1"][0] == pytest.approx(1.0)
    assert shares["C-2"][0] == pytest.approx(weights[0] / weights.sum())


def test_a_word_no_call_holds_weighs_nothing_but_counts_in_the_title_share(service):
    shares = _shares(service, "printer zzqxv")
    assert shares["C-1"] == pytest.approx((1.0, 0.5))
    assert shares["C-2"] == pytest.approx((1.0, 0.0))


def test_a_misspelt_word_is_held_through_its_correction(service):
    assert _shares(service, "printr tint")["C-1"] == pytest.approx((1.0, 1.0))


def test_a_british_spelling_is_held_as_the_call_spells_it(service):
    assert _shares(service, "colour calibration")["C-1"] == pytest.approx((1.0, 0.0))


def test_a_title_holds_a_word_by_its_stem(service):
    plan = service.plan("printing", service.opened())
    assert words_in_title(plan, "Prints lines across the page") == 1
    assert words_in_title(plan, "Scanner jams") == 0


def test_adjacent_words_count_when_they_stand_side_by_side_in_that_order(service):
    assert _pair_shares(service, "green tint") == {"C-1": 1.0, "C-2": 0.0, "C-3": 0.0}
    assert _pair_shares(service, "tint green")["C-1"] == 0.0
    # Two pairs, one side by side in the title ("green tint"), the other words apart ("brother ... tint").
    assert _pair_shares(service, "brother green tint")["C-1"] == pytest.approx(0.5)


def test_stop_words_between_two_words_leave_them_side_by_side(service):
    assert _pair_shares(service, "prints green")["C-1"] == 1.0  # "prints with a green"


def test_a_pair_is_held_through_a_words_alternatives(service):
    assert _pair_shares(service, "grean tint")["C-1"] == 1.0
    assert _pair_shares(service, "printing green")["C-1"] == 1.0


def test_pairs_are_looked_for_in_the_title_and_problem_not_the_resolution(service):
    assert _pair_shares(service, "photos come")["C-1"] == 1.0  # its problem
    assert _pair_shares(service, "colour calibration")["C-1"] == 0.0  # its resolution only


def test_a_one_word_query_has_no_pairs(service):
    assert set(_pair_shares(service, "printer").values()) == {0.0}


def test_looking_for_pairs_only_in_calls_holding_both_words_misses_none(tmp_path):
    kb = edited_knowledge_base(tmp_path, copies=1, edit_every=25)
    try:
        service = SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
        opened = service.opened()
        live = live_docnums(opened.searcher)
        found = 0
        for text in ("printer offline after windows update", "outlook password prompt", "wifi keeps dropping"):
            plan = service.plan(text, opened)
            pairs = pair_options(plan)
            held = words_held(opened.searcher, opened.stats, service.postings, plan, live)
            for docnum, row in zip(live, held.tolist()):
                fields = opened.fields.fields(docnum)
                assert pairs_held(fields, pairs, row) == pairs_held(fields, pairs), docnum
                found += pairs_held(fields, pairs)
        assert found > 5
    finally:
        kb.close()


def test_a_titles_terms_are_what_the_index_holds_for_it():
    for record in sample_records():
        assert text_terms(record["title"]) == frozenset(text_pipeline().terms(record["title"])), record["title"]


def test_calls_given_in_any_order_across_segments_get_their_own_counts(tmp_path):
    kb = edited_knowledge_base(tmp_path, copies=2, edit_every=25)
    try:
        service = SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
        opened = service.opened()
        assert len(opened.searcher.leaf_searchers()) > 1
        plan = service.plan("printer offline after windows update", opened)
        live = live_docnums(opened.searcher)
        docnums = random.Random(3).sample(live, 80)
        held = words_held(opened.searcher, opened.stats, service.postings, plan, docnums)
        for docnum, row in zip(docnums, held.tolist()):
            terms = set(text_pipeline().terms(catch_all_text(opened.fields.fields(docnum))))
            expected = [
                any(all(term in terms for term in alternative.terms) for alternative in word.alternatives)
                for word in plan.words
            ]
            assert row == expected, docnum
        assert np.count_nonzero(held) > 10
    finally:
        kb.close()
