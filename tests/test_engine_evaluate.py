"""A search pass over posting arrays ranks exactly as Whoosh's own searcher and scorer do (issue #15).

The reference is independent of our reading code: ``bench.whoosh_reference`` runs Whoosh's stock
queries and ``BM25F`` through Whoosh's own matchers, with Whoosh's file reading as shipped. The index
is the sample knowledge base three times over (900 calls, so common words span several 128-posting
blocks), then edited one commit at a time: several segments and deleted calls, as on a server.
"""

import random
import time

import numpy as np
import pytest
from sample_kb import edited_knowledge_base, sample_records
from whoosh import query as Q
from whoosh.scoring import BM25F

from bench.whoosh_reference import Untranslatable, average_lengths_from_length_bytes, reference_top, whoosh_search
from engine import combine as combination
from engine import evaluate as evaluation
from engine.evaluate import evaluate
from engine.postings import PostingArrays, live_mask
from engine.query import NOTHING, AllOf, AllTerms, AnyOf, BestOf, Term
from engine.results import reported_total
from engine.scoring import IndexStatistics, bm25
from engine.service import SearchService
from engine.shape import build_query, query_shape
from engine.sources import SynonymsFile
from engine.vocabulary import VocabularyCache
from index import whoosh_compat


@pytest.fixture(scope="module")
def knowledge_base(tmp_path_factory):
    kb = edited_knowledge_base(tmp_path_factory.mktemp("engine"))
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def index(knowledge_base):
    return knowledge_base.home.open_index()


@pytest.fixture(scope="module")
def searcher(index):
    with index.searcher() as opened:
        yield opened


@pytest.fixture(scope="module")
def common_terms(searcher):
    """The 40 index terms of the ``text`` field found in the most calls."""
    by_frequency = sorted(searcher.reader().iter_field("text"), key=lambda item: -item[1].doc_frequency())
    return [term.decode() for term, _ in by_frequency[:40]]


def _ours(searcher, tree, filters=(), limit=10, deadline=None, postings=None, count_up_to=None):
    """A pass as the engine runs it: scoring everything, or, given ``count_up_to``, skipping what cannot win."""
    deadline = deadline if deadline is not None else time.monotonic() + 60
    stats, postings = IndexStatistics(searcher), postings or PostingArrays()
    return evaluate(searcher, stats, postings, tree, filters, limit, deadline, (), count_up_to)


def _rounded(hits):
    """Hits as (docnum, score to 3 decimals), ordered by score to 6 decimals, then number: sums of the same
    scores added in another order may differ in the last bit, which must not reorder equal scores."""
    return [(docnum, round(score, 3)) for score, docnum in sorted(hits, key=lambda hit: (-round(hit[0], 6), hit[1]))]


def test_the_index_under_test_has_several_segments_blocks_and_deletions(searcher, common_terms):
    assert len(searcher.leaf_searchers()) > 1
    assert searcher.reader().has_deletions()
    assert searcher.doc_frequency("text", common_terms[0]) > 2 * 128


def test_each_term_decodes_to_the_postings_and_block_bounds_whoosh_reads(searcher):
    lists_of_several_blocks = 0
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for term, _ in reader.iter_field("text"):
            # Whoosh's own block reader, deleted calls included (as the arrays hold them).
            matcher = reader._terms.matcher("text", term, reader.schema["text"].format)
            ids, weights, block_max = [], [], []
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                block_max.append(matcher.block_max_weight())
                matcher.next()
            found = whoosh_compat.posting_list(reader, "text", term)
            assert found.ids.tolist() == ids, term
            assert found.weights.tolist() == weights, term
            starts = [0, *found.block_ends[:-1].tolist()]
            assert [
                found.block_max_weights[b] for b, start in enumerate(starts) for _ in range(start, found.block_ends[b])
            ] == block_max
            lists_of_several_blocks += len(found.block_ends) > 1
    assert lists_of_several_blocks >= 10


def test_a_term_no_segment_holds_decodes_to_nothing(searcher):
    reader = searcher.leaf_searchers()[0][0].reader()
    assert len(whoosh_compat.posting_list(reader, "text", b"zzzzqqq").ids) == 0


def test_deleted_calls_are_masked_out(searcher):
    reader = searcher.leaf_searchers()[0][0].reader()
    mask = live_mask(reader)
    deleted = [docnum for docnum in range(reader.doc_count_all()) if reader.is_deleted(docnum)]
    assert deleted != []
    assert np.flatnonzero(~mask).tolist() == deleted


def test_a_terms_scores_equal_whooshs_bm25f_to_the_last_bit(searcher, common_terms):
    stats = IndexStatistics(searcher)
    average_lengths_from_length_bytes(searcher)
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for text in common_terms[:10]:
            if ("text", text) not in reader:
                continue
            whoosh = leaf.postings("text", text, weighting=BM25F())
            expected = {}
            while whoosh.is_active():
                expected[whoosh.id()] = whoosh.score()
                whoosh.next()
            found = whoosh_compat.posting_list(reader, "text", text.encode())
            lengths = np.frombuffer(whoosh_compat.length_bytes(reader, "text"), dtype=np.uint8)
            scores = bm25(stats.idf("text", text), found.weights, stats.norms("text")[lengths[found.ids]])
            live = [
                (docnum, score)
                for docnum, score in zip(found.ids.tolist(), scores.tolist())
                if not reader.is_deleted(docnum)
            ]
            assert dict(live) == expected


def _agent_queries(count, seed=5):
    """Queries as agents type them: 1-5 words of a call's title or problem, some with a letter
    dropped or doubled, some spelled by ear or the British way, some with a filter."""
    rng = random.Random(seed)
    records = sample_records()
    spelled_by_ear = {"router": "rowter", "outlook": "outlok", "bluetooth": "blutooth", "connect": "conect"}
    british = {"color": "colour", "license": "licence", "center": "centre", "authorize": "authorise"}
    queries = []
    for _ in range(count):
        record = rng.choice(records)
        words = (record["title"] + " " + record["problem"]).split()
        start = rng.randrange(len(words))
        typed = []
        for word in words[start : start + rng.randint(1, 5)]:
            word = word.strip(".,;:!?()'\"").lower()
            roll = rng.random()
            if roll < 0.15 and len(word) > 4:
                cut = rng.randrange(1, len(word) - 1)
                word = word[:cut] + word[cut + 1 :]
            elif roll < 0.25 and len(word) > 3:
                cut = rng.randrange(1, len(word))
                word = word[:cut] + word[cut - 1] + word[cut:]
            typed.append(british.get(word, spelled_by_ear.get(word, word)))
        filters = []
        if rng.random() < 0.2:
            filters.append(Term("product", record["product"]))
        if rng.random() < 0.1:
            filters.append(Term("status", "resolved"))
        queries.append((" ".join(typed) or "printer", tuple(filters)))
    return queries


def _trees(service, text):
    """The trees of both passes of a search, planned as the server plans them."""
    opened = service.opened()
    plan = service.plan(text, opened)
    shape = query_shape(plan, opened.stats, short=len(plan.words) <= 5)
    return [build_query(plan, True, shape), build_query(plan, False, shape)]


def test_agent_queries_rank_as_whooshs_own_scorer_ranks_them(knowledge_base, index, searcher):
    """With typo, sound-alike and synonym alternatives, every pass's top 15 equals the reference."""
    service = SearchService(knowledge_base.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
    kinds = set()
    for text, filters in _agent_queries(150):
        for tree in _trees(service, text):
            kinds.update(type(node).__name__ for node in _nodes(tree))
            ours = _ours(searcher, tree, filters, limit=15)
            assert _rounded(ours.hits) == _rounded(reference_top(index, tree, filters, limit=15)), text
    assert {"BestOf", "AllOf", "AnyOf", "Term"} <= kinds


def _nodes(tree):
    yield tree
    for child in getattr(tree, "options", ()) + getattr(tree, "words", ()) + getattr(tree, "finding", ()):
        yield from _nodes(child)
    for child in getattr(tree, "scoring", ()) + getattr(tree, "parts", ()):
        yield from _nodes(child)


def test_trees_without_alternatives_rank_as_whooshs_own_searcher_ranks_them(knowledge_base, index, searcher):
    """No typo, sound-alike or synonym suggestions: the trees translate into Whoosh's stock queries."""
    service = SearchService(knowledge_base.home, result_cache_size=0)
    compared = 0
    for text, filters in _agent_queries(120, seed=9):
        for tree in _trees(service, text):
            try:
                expected = whoosh_search(index, tree, filters, limit=15)
            except Untranslatable:
                continue
            compared += 1
            assert _rounded(_ours(searcher, tree, filters, limit=15).hits) == _rounded(expected), text
    assert compared >= 150


def test_random_trees_of_common_words_rank_as_the_reference(index, searcher, common_terms):
    rng = random.Random(11)
    term = lambda text, boost=1.0: Term("text", text, boost)  # noqa: E731
    for _ in range(40):
        a, b, c, d, e = rng.sample(common_terms, 5)
        word = BestOf((term(a), term(b, 0.7), AllTerms((term(c), term(e)), 0.4)))
        for tree in (AnyOf((word, term(d), term(e))), AnyOf((term(d),), (word, term(e))), AllOf((word, term(d)))):
            for limit in (3, 10):
                expected = reference_top(index, tree, limit=limit)
                assert _rounded(_ours(searcher, tree, limit=limit).hits) == _rounded(expected), tree


def test_whooshs_disjunction_max_scores_some_calls_with_another_calls_score(index, searcher, common_terms):
    """Why the reference does not use Whoosh's ``DisjunctionMax`` for a word's alternatives."""
    wrong_in_whoosh = 0
    for first, second in zip(common_terms[:20:2], common_terms[1:20:2]):
        alternatives = (Term("text", first), Term("text", second, 0.7))
        expected = dict((docnum, score) for score, docnum in reference_top(index, BestOf(alternatives), limit=10_000))
        ours = {docnum: score for score, docnum in _ours(searcher, BestOf(alternatives), limit=10_000).hits}
        assert ours.keys() == expected.keys()
        assert all(ours[docnum] == pytest.approx(expected[docnum], rel=1e-12) for docnum in expected)
        with whoosh_compat.shipped():
            whoosh_query = Q.DisjunctionMax([Q.Term("text", first), Q.Term("text", second, boost=0.7)])
            whoosh = {hit.docnum: hit.score for hit in searcher.search(whoosh_query, limit=None)}
        wrong_in_whoosh += sum(abs(whoosh[docnum] - expected[docnum]) > 1e-9 for docnum in expected)
    assert wrong_in_whoosh > 0


def test_a_filter_narrows_the_matches_and_adds_nothing_to_their_scores(searcher, common_terms):
    tree = AnyOf((Term("text", common_terms[3]), Term("text", common_terms[7])))
    everything = dict((docnum, score) for score, docnum in _ours(searcher, tree, limit=10_000).hits)
    filtered = _ours(searcher, tree, (Term("status", "resolved"),), limit=10_000)
    assert 0 < filtered.total < len(everything)
    assert all(everything[docnum] == score for score, docnum in filtered.hits)


def test_empty_combinations_match_nothing(searcher):
    for tree in (NOTHING, AllOf(()), BestOf(()), AnyOf((), (Term("text", "printer"),))):
        found = _ours(searcher, tree)
        assert (found.hits, found.total, found.timed_out) == ([], 0, False)


def test_a_small_budget_keeps_the_most_recently_used_lists_and_the_answers(searcher, common_terms):
    small = PostingArrays(budget_mb=0.01)
    tree = AnyOf(tuple(Term("text", text) for text in common_terms[:6]))
    assert _ours(searcher, tree, postings=small).hits == _ours(searcher, tree).hits
    assert 0 < small.held_bytes <= small.budget_bytes


def test_least_recently_used_lists_go_first(searcher, common_terms):
    reader = searcher.leaf_searchers()[0][0].reader()
    arrays = PostingArrays()
    sizes = [arrays.get(reader, "text", text.encode()) for text in common_terms[:3]]
    one_list = max(found.ids.nbytes + found.weights.nbytes for found in sizes) + 400
    small = PostingArrays(budget_mb=2.5 * one_list / (1024 * 1024))
    for text in common_terms[:3]:
        small.get(reader, "text", text.encode())
    small.get(reader, "text", common_terms[1].encode())
    kept = {key[2] for key in small._arrays}
    assert common_terms[0].encode() not in kept
    assert common_terms[1].encode() in kept


def test_no_budget_decodes_every_time_and_keeps_nothing(searcher, common_terms):
    arrays = PostingArrays(budget_mb=0)
    reader = searcher.leaf_searchers()[0][0].reader()
    arrays.get(reader, "text", common_terms[0].encode())
    arrays.get(reader, "text", common_terms[0].encode())
    assert (arrays.decoded, arrays.reused, arrays.held_bytes) == (2, 0, 0)


def test_past_the_deadline_each_segment_has_been_searched_in_part(searcher, common_terms, monkeypatch):
    """A pass cut short returns the best hits of what it looked at, which spans every segment; the
    clock here advances one tick per look, and each segment is cut into several document ranges."""
    monkeypatch.setattr(evaluation, "UNIT_POSTINGS", 40)
    ticks = iter(range(10_000))
    monkeypatch.setattr(evaluation, "monotonic", lambda: next(ticks))
    tree = AnyOf(tuple(Term("text", text) for text in common_terms[:4]))
    segments = [(leaf.reader(), offset) for leaf, offset in searcher.leaf_searchers()]
    found = _ours(searcher, tree, limit=10_000, deadline=len(segments) - 0.5)
    assert found.timed_out is True
    everything = _ours(searcher, tree, limit=10_000, deadline=float("inf"))
    assert 0 < found.total < everything.total
    assert _segments_of(segments, found.hits) == _segments_of(segments, everything.hits)


def _segments_of(segments, hits):
    """The positions of the segments holding these hits."""
    return {
        next(n for n, (reader, offset) in enumerate(segments) if offset <= docnum < offset + reader.doc_count_all())
        for _, docnum in hits
    }


def _pruned_and_exhaustive(searcher, tree, filters=(), limit=15):
    pruned = _ours(searcher, tree, filters, limit=limit, count_up_to=100)
    everything = _ours(searcher, tree, filters, limit=limit)
    return pruned, everything


def _skipping_cases(knowledge_base, common_terms):
    service = SearchService(knowledge_base.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
    for text, filters in _agent_queries(200, seed=21):
        for tree in _trees(service, text):
            yield text, tree, filters
    for text in common_terms:
        yield f"one word: {text}", Term("text", text), ()
    rng = random.Random(3)
    for number in range(60):
        words = tuple(Term("text", text) for text in rng.sample(common_terms, rng.randint(2, 6)))
        yield f"common words {number}", AnyOf(words[:2], words[2:]), ()
        yield f"all common words {number}", AllOf(words[:2]), (Term("status", "resolved"),) if number % 3 else ()


@pytest.mark.parametrize("lookup_share", [1, evaluation.LOOKUP_SHARE], ids=["always-lookups", "as-shipped"])
def test_leaving_unread_the_words_that_cannot_win_ranks_exactly_as_scoring_everything(
    knowledge_base, searcher, common_terms, lookup_share, monkeypatch
):
    """Several hundred passes: agent queries with alternatives, one-word, all-common-word, filters, deleted calls;
    words looked up on the calls brought in however many they are, and as shipped (scoring everything once they
    are many, which in an index of 900 calls is soon)."""
    monkeypatch.setattr(evaluation, "LOOKUP_SHARE", lookup_share)
    compared, skipped_some = 0, 0
    for text, tree, filters in _skipping_cases(knowledge_base, common_terms):
        for limit in (5, 15):
            pruned, everything = _pruned_and_exhaustive(searcher, tree, filters, limit)
            assert pruned.hits == everything.hits, text
            assert reported_total(pruned.total, False) == reported_total(everything.total, False), text
            assert pruned.postings_total == everything.postings_total, text
            compared += 1
            skipped_some += pruned.postings_scored < pruned.postings_total
    assert compared >= 600
    assert skipped_some >= (100 if lookup_share == 1 else 20)


def test_every_word_required_ranks_the_same_to_the_bit_whether_later_words_are_looked_up_or_scored_whole(
    knowledge_base, searcher, common_terms, monkeypatch
):
    """The words after the rarest are looked up on the calls it left, or scored over the range and intersected:
    the same calls, the same sums in the same order, so the same scores to the last bit; fewer postings touched."""
    cases = [case for case in _skipping_cases(knowledge_base, common_terms) if type(case[1]) is AllOf]
    assert len(cases) >= 150

    def passes(lookup_share):
        monkeypatch.setattr(combination, "REQUIRED_LOOKUP_SHARE", lookup_share)
        return [_ours(searcher, tree, filters, limit=15) for _, tree, filters in cases]

    looked_up, scored_whole = passes(0), passes(float("inf"))
    for (text, _, _), by_lookup, by_scoring in zip(cases, looked_up, scored_whole):
        assert (by_lookup.hits, by_lookup.total) == (by_scoring.hits, by_scoring.total), text
        assert by_lookup.postings_scored <= by_scoring.postings_scored, text
    assert sum(found.postings_scored for found in looked_up) < sum(found.postings_scored for found in scored_whole)


def test_a_pass_cut_short_between_words_keeps_the_best_of_what_it_scored(searcher, common_terms, monkeypatch):
    monkeypatch.setattr(evaluation, "LOOKUP_SHARE", 1)
    ticks = iter(range(10_000))
    monkeypatch.setattr(evaluation, "monotonic", lambda: next(ticks))
    tree = AnyOf(tuple(Term("text", text) for text in common_terms[:4]))
    cut = _ours(searcher, tree, limit=10, deadline=-0.5, count_up_to=100)
    everything = _ours(searcher, tree, limit=10, deadline=float("inf"), count_up_to=100)
    assert (cut.timed_out, everything.timed_out) == (True, False)
    assert 0 < cut.postings_scored < everything.postings_scored
    assert len(cut.hits) == 10


@pytest.fixture(scope="module")
def knowledge_base_with_posting_arrays(tmp_path_factory):
    """The same calls, written with every list of 64 postings or more also kept as arrays in its segment."""
    from index import posting_file

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(posting_file, "MIN_POSTINGS", 64)
        kb = edited_knowledge_base(tmp_path_factory.mktemp("engine-arrays"))
    yield kb
    kb.close()


def test_posting_arrays_read_from_the_segments_rank_as_whooshs_own_scorer(knowledge_base_with_posting_arrays):
    kb = knowledge_base_with_posting_arrays
    index = kb.home.open_index()
    service = SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
    with index.searcher() as searcher:
        postings = PostingArrays()
        for text, filters in _agent_queries(60, seed=17):
            for tree in _trees(service, text):
                found = _ours(searcher, tree, filters, limit=15, postings=postings)
                assert _rounded(found.hits) == _rounded(reference_top(index, tree, filters, limit=15)), text
                skipping = _ours(searcher, tree, filters, limit=15, postings=postings, count_up_to=100)
                assert skipping.hits == found.hits, text
    assert postings.mapped > 100
    assert postings.held_bytes < 200_000
