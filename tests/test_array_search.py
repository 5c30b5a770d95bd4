"""Searching over posting arrays (issue #5) gives every answer the matcher path gives.

The index is the sample knowledge base three times over in one build (900 calls, so common words
have posting lists of several 128-posting blocks), then edited one commit at a time, so it has
several segments and deleted documents, as a server's index does after a day of edits.
"""

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as Q

from app.alternatives import BestOf
from app.array_search import search_arrays
from app.disjunction import AnyOf
from app.posting_arrays import PostingArrays, decode_postings, live_mask
from app.scoring import TabulatedBM25F
from app.search import SearchService
from app.services import SynonymsFile
from app.vocabulary import VocabularyCache
from indexer.build import apply_changes, rebuild
from indexer.context import open_knowledge_base
from indexer.records import validate_record

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"
COPIES = 3


def _sample_records():
    return [validate_record(json.loads(line)) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def knowledge_base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arrays")
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    records = _sample_records()
    kb.store.upsert([{**record, "id": f"{record['id']}-{copy}"} for copy in range(COPIES) for record in records])
    rebuild(kb.store, kb.home)
    for record in list(kb.store.iter_records())[::40]:
        kb.store.upsert([{**record, "resolution": record["resolution"] + " Checked again by phone."}])
        apply_changes(kb.store, kb.home)
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def searcher(knowledge_base):
    index = knowledge_base.home.open_index()
    with index.searcher(weighting=TabulatedBM25F()) as opened:
        yield opened


def _agent_queries(count, seed=5):
    """Queries as agents type them: 1-5 words of a call's title or problem, some with a letter
    dropped or doubled, some spelled by ear or the British way, some with a filter."""
    rng = random.Random(seed)
    records = _sample_records()
    spelled_by_ear = {"router": "rowter", "outlook": "outlok", "bluetooth": "blutooth", "connect": "conect"}
    british = {"color": "colour", "license": "licence", "center": "centre", "authorize": "authorise"}
    queries = []
    for _ in range(count):
        record = rng.choice(records)
        words = (record["title"] + " " + record["problem"]).split()
        start = rng.randrange(len(words))
        chosen = words[start : start + rng.randint(1, 5)]
        typed = []
        for word in chosen:
            word = word.strip(".,;:!?()'\"").lower()
            roll = rng.random()
            if roll < 0.15 and len(word) > 4:
                cut = rng.randrange(1, len(word) - 1)
                word = word[:cut] + word[cut + 1 :]
            elif roll < 0.25 and len(word) > 3:
                cut = rng.randrange(1, len(word))
                word = word[:cut] + word[cut - 1] + word[cut:]
            word = british.get(word, spelled_by_ear.get(word, word))
            typed.append(word)
        filters = {}
        if rng.random() < 0.2:
            filters["product"] = record["product"]
        if rng.random() < 0.1:
            filters["status"] = "resolved"
        queries.append((" ".join(typed) or "printer", filters))
    return queries


def _answer(result):
    return replace(result, took_ms=0.0)


def test_each_term_decodes_to_the_postings_whoosh_reads(searcher):
    lists_of_several_blocks = 0
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for term, _ in reader.iter_field("text"):
            matcher = reader._terms.matcher("text", term, reader.schema["text"].format)
            expected_ids, expected_weights = [], []
            while matcher.is_active():
                expected_ids.append(matcher.id())
                expected_weights.append(matcher.weight())
                matcher.next()
            ids, weights = decode_postings(reader, "text", term)
            assert ids.tolist() == expected_ids, term
            assert weights.tolist() == expected_weights, term
            lists_of_several_blocks += len(expected_ids) > 128
    assert lists_of_several_blocks >= 10


def test_a_term_no_segment_holds_decodes_to_nothing(searcher):
    reader = searcher.leaf_searchers()[0][0].reader()
    ids, weights = decode_postings(reader, "text", b"zzzzqqq")
    assert len(ids) == 0 and len(weights) == 0


def test_deleted_calls_are_masked_out(searcher):
    with_deletions = 0
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        mask = live_mask(reader)
        if mask is None:
            assert not reader.has_deletions()
            continue
        with_deletions += 1
        assert [not live for live in mask.tolist()] == [reader.is_deleted(n) for n in range(reader.doc_count_all())]
    assert with_deletions >= 1


def _service(knowledge_base, **options):
    """A search service as the server makes one: typo, sound-alike and synonym suggestions on."""
    return SearchService(knowledge_base.home, VocabularyCache(), SynonymsFile(), result_cache_size=0, **options)


def test_agent_queries_get_the_same_answers_as_through_whoosh_matchers(knowledge_base):
    arrays, matchers = _service(knowledge_base), _service(knowledge_base, use_arrays=False)
    counted_products, guessed = 0, set()
    for text, filters in _agent_queries(150):
        for page in ({"limit": 10}, {"limit": 5, "offset": 5}, {"limit": 10, "facets": True}):
            expected = matchers.search(text, **filters, **page)
            assert _answer(arrays.search(text, **filters, **page)) == _answer(expected), (text, filters, page)
            counted_products += len(expected.facets.get("product", {})) > 1
            guessed |= {match["how"] for hit in expected.hits for match in hit["matches"]}
    assert arrays.postings.reused > arrays.postings.decoded
    assert counted_products > 50
    assert {"typo", "sounds-like", "synonym", "stem"} <= guessed


def test_counts_stop_at_a_hundred_as_when_stepping_matchers(knowledge_base, searcher):
    arrays = SearchService(knowledge_base.home, result_cache_size=0)
    matchers = SearchService(knowledge_base.home, result_cache_size=0, use_arrays=False)
    by_frequency = sorted(searcher.reader().iter_field("text"), key=lambda item: -item[1].doc_frequency())
    most_common = by_frequency[0][0].decode()
    assert by_frequency[0][1].doc_frequency() > 100
    for text in (most_common, "printer", "password reset", "zzzqx"):
        found, stepped = arrays.search(text), matchers.search(text)
        assert (found.total, found.total_exact) == (stepped.total, stepped.total_exact), text
    assert (arrays.search(most_common).total, arrays.search(most_common).total_exact) == (100, False)


def test_a_filter_adds_nothing_to_the_scores_on_either_path(knowledge_base):
    for use_arrays in (True, False):
        service = SearchService(knowledge_base.home, result_cache_size=0, use_arrays=use_arrays)
        everywhere = {hit["id"]: hit["score"] for hit in service.search("outlook password", limit=50).hits}
        filtered = service.search("outlook password", product="Outlook", limit=50).hits
        shared = [hit for hit in filtered if hit["id"] in everywhere]
        assert shared
        assert all(hit["score"] == everywhere[hit["id"]] for hit in shared)


def test_a_small_budget_keeps_the_most_recently_used_lists_and_the_answers(knowledge_base):
    unbounded = SearchService(knowledge_base.home, result_cache_size=0)
    small = SearchService(knowledge_base.home, result_cache_size=0, posting_arrays_mb=0.02)
    for text, filters in _agent_queries(40, seed=11):
        assert _answer(small.search(text, **filters)) == _answer(unbounded.search(text, **filters))
        assert small.postings.held_bytes <= small.postings.budget_bytes
    assert small.postings.held_bytes < unbounded.postings.held_bytes


def test_least_recently_used_lists_go_first(searcher):
    reader = searcher.leaf_searchers()[0][0].reader()
    terms = [term for term, _ in reader.iter_field("text")][:3]
    one_list = max(sum(a.nbytes for a in decode_postings(reader, "text", term)) for term in terms) + 200
    postings = PostingArrays(budget_mb=2.5 * one_list / (1024 * 1024))
    first, second, third = terms
    postings.get(reader, "text", first)
    postings.get(reader, "text", second)
    postings.get(reader, "text", first)
    postings.get(reader, "text", third)
    decoded = postings.decoded
    postings.get(reader, "text", first)
    assert postings.decoded == decoded
    postings.get(reader, "text", second)
    assert postings.decoded == decoded + 1


def test_no_budget_decodes_every_time_and_keeps_nothing(searcher):
    reader = searcher.leaf_searchers()[0][0].reader()
    term = next(term for term, _ in reader.iter_field("text"))
    postings = PostingArrays(budget_mb=0)
    first = postings.get(reader, "text", term)
    again = postings.get(reader, "text", term)
    assert postings.decoded == 2 and postings.held_bytes == 0
    assert np.array_equal(first[0], again[0])


def test_a_query_type_it_does_not_evaluate_is_left_to_whoosh(searcher):
    either = Q.Or([Q.Term("text", "printer"), Q.Term("text", "outlook")])
    assert search_arrays(searcher, either, None, 10, float("inf"), PostingArrays()) is None


def test_empty_combinations_match_nothing_as_in_whoosh(searcher):
    for empty in (Q.And([]), BestOf([]), AnyOf([])):
        results, timed_out = search_arrays(searcher, empty, None, 10, float("inf"), PostingArrays())
        assert (results.scored_length(), len(results), timed_out) == (0, 0, False)
        assert searcher.search(empty).scored_length() == 0


def test_past_the_deadline_the_segments_searched_so_far_are_returned(searcher):
    words = Q.Term("text", "printer")
    results, timed_out = search_arrays(searcher, words, None, 10, 0.0, PostingArrays())
    assert timed_out is (len(searcher.leaf_searchers()) > 1)
    assert results.scored_length() <= 10
