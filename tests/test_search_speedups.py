"""The search speed-ups (issue #5) change no answer: same scores, same postings, same spans.

They run against a real Whoosh index of the sample knowledge base, written in several commits so
that it has several segments and deleted documents, as a server's index does after a day of edits.
"""

import json
import random
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from whoosh import query as Q
from whoosh.scoring import BM25F

from analyzers.chains import text_analyzer
from app import snippets, whoosh_patches
from app.alternatives import BestOf
from app.conjunction import AllOf
from app.disjunction import AnyOf
from app.scoring import TabulatedBM25F
from app.search import SearchService, count_matches
from indexer.build import apply_changes, rebuild
from indexer.context import open_knowledge_base
from indexer.records import validate_record

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    """The sample calls in two halves (two segments of 150), then every tenth edited one commit at a time."""
    folder = tmp_path_factory.mktemp("speedups")
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    records = [validate_record(json.loads(line)) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    half = len(records) // 2
    kb.store.upsert(records[:half])
    rebuild(kb.store, kb.home)
    kb.store.upsert(records[half:])
    apply_changes(kb.store, kb.home)
    for record in list(kb.store.iter_records())[::10]:
        kb.store.upsert([{**record, "resolution": record["resolution"] + " Checked again."}])
        apply_changes(kb.store, kb.home)
    index = kb.home.open_index()
    yield index
    kb.close()


@pytest.fixture(scope="module")
def common_terms(sample_index):
    """The 40 index terms of the ``text`` field found in the most calls."""
    with sample_index.searcher() as searcher:
        reader = searcher.reader()
        by_frequency = sorted(reader.iter_field("text"), key=lambda item: -item[1].doc_frequency())
        return [term.decode() if isinstance(term, bytes) else term for term, _ in by_frequency[:40]]


def _ranked(searcher, whoosh_query):
    return [(hit.docnum, hit.score) for hit in searcher.search(whoosh_query, limit=None)]


def test_the_index_under_test_has_several_segments_and_deletions(sample_index):
    with sample_index.searcher() as searcher:
        assert len(searcher.leaf_searchers()) > 1
        assert searcher.reader().has_deletions()


def test_tabulated_bm25f_scores_every_call_as_whoosh_bm25f_does_to_the_last_bit(sample_index, common_terms):
    rng = random.Random(5)
    term = lambda text: Q.Term("text", text)  # noqa: E731
    queries = [term(text) for text in common_terms]
    for _ in range(60):
        a, b, c = rng.sample(common_terms, 3)
        queries.append(Q.Or([term(a), term(b), term(c)]))
        queries.append(Q.And([term(a), Q.DisjunctionMax([term(b), Q.Term("text", c, boost=0.7)])]))
        queries.append(Q.AndMaybe(term(a), Q.Or([term(b), term(c)])))
    with sample_index.searcher(weighting=BM25F()) as whoosh, sample_index.searcher(weighting=TabulatedBM25F()) as ours:
        for whoosh_query in queries:
            assert _ranked(ours, whoosh_query) == _ranked(whoosh, whoosh_query), whoosh_query


def _walk(matcher, targets):
    """The posting each skip lands on (None once the postings run out)."""
    landed = []
    for target in targets:
        if not matcher.is_active():
            landed.append(None)
            continue
        matcher.skip_to(target)
        landed.append(matcher.id() if matcher.is_active() else None)
    return landed


@given(steps=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=60), which=st.integers(0, 39))
def test_bisecting_skip_to_lands_on_the_posting_whoosh_lands_on(sample_index, common_terms, steps, which):
    text = common_terms[which % len(common_terms)]
    targets, position = [], 0
    for step in steps:
        position += step
        targets.append(position)
    with sample_index.searcher() as searcher:
        for leaf, _ in searcher.leaf_searchers():
            if ("text", text) not in leaf.reader():
                continue
            whoosh_patches.install()
            ours = _walk(leaf.postings("text", text), targets)
            with whoosh_patches.as_shipped():
                shipped = _walk(leaf.postings("text", text), targets)
            assert ours == shipped


def test_the_search_service_uses_the_bisecting_skip_to(indexed_client):
    from whoosh.codec.whoosh3 import W3LeafMatcher

    assert indexed_client.get("/api/v1/search?q=printer").status_code == 200
    assert W3LeafMatcher.skip_to is whoosh_patches._skip_to_by_bisection


def test_counting_is_exact_below_the_cap_and_stops_at_it(sample_index, common_terms):
    with sample_index.searcher(weighting=TabulatedBM25F()) as searcher:
        for a, b in zip(common_terms, common_terms[1:]):
            whoosh_query = Q.And([Q.Term("text", a), Q.Term("text", b)])
            results = searcher.search(whoosh_query, limit=3)
            everything = sum(1 for _ in searcher.docs_for_query(whoosh_query))
            count, exact = count_matches(searcher, results, up_to=10)
            if everything < 10:
                assert (count, exact) == (everything, True)
            else:
                assert (count, exact) == (10, False)


def _composed_spans(text):
    return [(token.startchar, token.endchar, token.text) for token in text_analyzer()(text, chars=True, mode="index")]


def test_snippet_spans_are_what_the_composed_analyzer_gives_on_every_sample_call(sample_index):
    with sample_index.searcher() as searcher:
        for fields in searcher.all_stored_fields():
            for text in (fields["title"], fields["problem"], fields["resolution"]):
                assert list(snippets._term_spans(text)) == _composed_spans(text)


_PIECES = [*"abcdeéfoprstu ECX0189-.@'’+#\u0301", " colour ", " the ", " won't ", " e-1102 ", " c++ "]


@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_snippet_spans_are_what_the_composed_analyzer_gives_on_any_text(text):
    assert list(snippets._term_spans(text)) == _composed_spans(text)


def _exhaustive(searcher, whoosh_query, limit):
    return [round(hit.score, 6) for hit in searcher.search(whoosh_query, limit=None)][:limit]


def _random_queries(common_terms, count, seed):
    rng = random.Random(seed)
    term = lambda text, boost=1.0: Q.Term("text", text, boost=boost)  # noqa: E731
    for _ in range(count):
        a, b, c, d, e = rng.sample(common_terms, 5)
        group = Q.DisjunctionMax([term(a), term(b, 0.7), term(c, 0.45)])
        yield Q.Or([group, term(d), term(e)])
        yield Q.AndMaybe(Q.Or([term(d), group]), Q.Or([term(e), term(c)]))
        yield Q.AndMaybe(term(a), Q.Or([term(b), term(c), term(d)]))
        yield AllOf([group, term(d)])
        yield AnyOf([group, term(d), term(e)])
        yield AnyOf([term(d)], [group, term(e)])


def test_all_of_matches_and_scores_what_whoosh_and_does(sample_index, common_terms):
    with sample_index.searcher(weighting=TabulatedBM25F()) as searcher:
        for whoosh_query in _random_queries(common_terms, 40, seed=11):
            if isinstance(whoosh_query, AllOf):
                as_and = Q.And(whoosh_query.subqueries)
                ours = {docnum: round(score, 9) for docnum, score in _ranked(searcher, whoosh_query)}
                assert ours == {docnum: round(score, 9) for docnum, score in _ranked(searcher, as_and)}


def test_any_of_matches_and_scores_what_whoosh_or_and_and_maybe_do(sample_index, common_terms):
    with sample_index.searcher(weighting=TabulatedBM25F()) as searcher:
        for whoosh_query in _random_queries(common_terms, 40, seed=13):
            if isinstance(whoosh_query, AnyOf):
                finding = whoosh_query.subqueries[: whoosh_query.finding_count]
                scoring = whoosh_query.subqueries[whoosh_query.finding_count :]
                whoosh_form = Q.Or(finding) if not scoring else Q.AndMaybe(Q.Or(finding), Q.Or(scoring))
                ours = {docnum: round(score, 9) for docnum, score in _ranked(searcher, whoosh_query)}
                assert ours == {docnum: round(score, 9) for docnum, score in _ranked(searcher, whoosh_form)}


def test_any_of_keeps_finding_and_scoring_words_apart_when_rewritten():
    query = AnyOf([Q.Term("text", "printer")], [Q.Term("text", "offline"), Q.Term("text", "driver")])
    assert query.normalize() == query
    renamed = query.replace("text", "printer", "scanner")
    assert renamed.finding_count == 1 and renamed.subqueries[0] == Q.Term("text", "scanner")


def test_the_service_finds_the_exhaustive_top_hits_where_whoosh_default_collector_loses_some(
    sample_index, common_terms
):
    service, lost_by_whoosh = SearchService(home=None), 0
    with sample_index.searcher(weighting=TabulatedBM25F()) as searcher:
        for whoosh_query in _random_queries(common_terms, 100, seed=7):
            for limit in (3, 5):
                best = _exhaustive(searcher, whoosh_query, limit)
                results, timed_out = service._run(searcher, whoosh_query, None, limit, False, time.monotonic() + 60)
                assert not timed_out
                assert [round(hit.score, 6) for hit in results] == best, whoosh_query
                whoosh_default = searcher.search(whoosh_query, limit=limit)
                lost_by_whoosh += [round(hit.score, 6) for hit in whoosh_default] != best
    # Why the service switches Whoosh's matcher replacement off: with it, some top hits go missing.
    assert lost_by_whoosh > 0


def test_a_boosted_any_of_scales_every_score(sample_index, common_terms):
    words = [Q.Term("text", text) for text in common_terms[:3]]
    with sample_index.searcher(weighting=TabulatedBM25F()) as searcher:
        plain = {docnum: score for docnum, score in _ranked(searcher, AnyOf(words))}
        boosted = {docnum: score for docnum, score in _ranked(searcher, AnyOf(words, boost=2.0))}
    assert boosted.keys() == plain.keys()
    assert all(boosted[docnum] == pytest.approx(2 * score) for docnum, score in plain.items())


def _scores(searcher, whoosh_query):
    return {hit.docnum: hit.score for hit in searcher.search(whoosh_query, limit=None)}


def test_a_words_alternatives_score_each_call_by_the_best_alternative_that_call_contains(sample_index, common_terms):
    wrong_in_whoosh = 0
    with sample_index.searcher(weighting=TabulatedBM25F()) as searcher:
        for first, second in zip(common_terms[:20:2], common_terms[1:20:2]):
            alternatives = [Q.Term("text", first), Q.Term("text", second, boost=0.7)]
            expected = {}
            for alternative in alternatives:
                for docnum, score in _scores(searcher, alternative).items():
                    expected[docnum] = max(expected.get(docnum, 0.0), score)
            ours = _scores(searcher, BestOf(alternatives))
            assert ours.keys() == expected.keys()
            assert all(ours[docnum] == pytest.approx(expected[docnum], rel=1e-9) for docnum in expected)
            whoosh = _scores(searcher, Q.DisjunctionMax(alternatives))
            wrong_in_whoosh += sum(abs(whoosh[docnum] - expected[docnum]) > 1e-9 for docnum in expected)
    # Why: Whoosh 2.7.4's DisjunctionMax gives some calls the score another call has for the other alternative.
    assert wrong_in_whoosh > 0
