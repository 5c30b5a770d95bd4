"""How a short query spends its time (issue #5): words in most calls stay out of the hot path.

A knowledge base of 1,500 calls where ``gadget`` is in every call (very common), ``widget`` and
``doohickey`` in 250 and ``gizmo`` in 300 (common), and ``sprocket``, ``flange`` in 20 each (rare).
"""

import pytest
from sample_kb import indexed_knowledge_base

from engine.plan import plan_query
from engine.query import AnyOf
from engine.service import SearchService
from engine.shape import build_query, query_shape

CALLS = 1_500


def _record(number):
    words = ["gadget"]
    if number % 6 == 0:
        words.append("widget")
    if number % 6 == 3:
        words.append("doohickey")
    if number % 5 == 2:
        words.append("gizmo")
    if number % 75 == 0:
        words.append("sprocket")
    if number % 75 == 1:
        words.append("flange")
    return {
        "id": f"S-{number:04d}",
        "title": f"Call {number}",
        "problem": " ".join(words) + " trouble reported",
        "resolution": "Resolved on the call.",
        "created_at": "2025-01-01T00:00:00Z",
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    kb = indexed_knowledge_base(tmp_path_factory.mktemp("shape"), [_record(number) for number in range(CALLS)])
    yield SearchService(kb.home)
    kb.close()


def _shape(service, text, short=True):
    stats = service.opened().stats
    plan = plan_query(text, lambda term: stats.doc_frequency("text", term) > 0)
    return plan, query_shape(plan, stats, short)


def test_a_word_in_most_calls_is_left_out_of_a_short_query(service):
    plan, shape = _shape(service, "gadget widget sprocket")
    assert [plan.words[i].typed for i in shape.kept] == ["widget", "sprocket"]


def test_a_word_in_most_calls_is_kept_when_it_is_all_there_is(service):
    plan, shape = _shape(service, "gadget")
    assert [plan.words[i].typed for i in shape.kept] == ["gadget"]
    assert service.search("gadget").total_exact is False


def test_a_long_query_keeps_every_word(service):
    plan, shape = _shape(service, "gadget widget sprocket flange trouble reported", short=False)
    assert len(shape.kept) == len(plan.words) and not shape.scoring_only


def test_common_words_only_add_to_the_score_of_calls_the_rare_words_find(service):
    plan, shape = _shape(service, "widget sprocket")
    assert {plan.words[i].typed for i in shape.scoring_only} == {"widget"}
    query = build_query(plan, False, shape)
    assert isinstance(query, AnyOf) and len(query.finding) == 1


def test_when_every_word_is_common_the_two_rarest_find_the_calls(service):
    plan, shape = _shape(service, "gizmo widget doohickey")
    assert [plan.words[i].typed for i in shape.kept] == ["gizmo", "widget", "doohickey"]
    assert {plan.words[i].typed for i in shape.scoring_only} == {"gizmo"}


def test_calls_with_a_rare_word_and_a_common_one_rank_first(service):
    hits = service.search("sprocket flange widget").hits
    assert len(hits) == 10
    for hit in hits:
        assert "<mark>widget</mark>" in hit["snippet"]
        assert "<mark>sprocket</mark>" in hit["snippet"] or "<mark>flange</mark>" in hit["snippet"]
