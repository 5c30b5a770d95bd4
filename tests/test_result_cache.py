"""Repeated searches are answered from recent results, and nothing stale is ever served (issue #5).

Feedback and accepted synonyms retiring cached results are covered where those features are
specified (tests/test_knowledge_loop.py searches the same words before and after each).
"""

from conftest import auth

from engine.cache import ResultCache

NEW_CALL = {
    "id": "CACHE-1",
    "title": "Zebraprint label printer prints blank labels",
    "problem": "The zebraprint printer feeds labels but prints nothing.",
    "resolution": "Replaced the ribbon and recalibrated the media sensor.",
    "product": "Zebraprint ZD420",
    "category": "printing",
}


def ids(body):
    return [hit["id"] for hit in body["results"]]


def search(client, query, **params):
    response = client.get("/api/v1/search", query_string={"q": query, **params})
    assert response.status_code == 200
    return response.get_json()


def test_a_repeated_search_gives_the_same_answer_from_the_cache(indexed_app):
    client = indexed_app.test_client()
    results = indexed_app.extensions["kb"].search.results
    first = search(client, "printer offline")
    kept = len(results)
    second = search(client, "printer offline")
    assert ids(second) == ids(first) and second["total"] == first["total"]
    assert len(results) == kept


def test_different_filters_or_pages_are_different_searches(indexed_app):
    client = indexed_app.test_client()
    results = indexed_app.extensions["kb"].search.results
    search(client, "printer", limit=2)
    kept = len(results)
    search(client, "printer", limit=2, offset=2)
    search(client, "printer", limit=2, product="DYMO LabelWriter 450")
    assert len(results) == kept + 2


def test_a_write_retires_cached_results_so_the_new_call_is_found_at_once(indexed_client):
    assert "CACHE-1" not in ids(search(indexed_client, "label printer blank"))
    response = indexed_client.post("/api/v1/calls", json=NEW_CALL, headers=auth())
    assert response.status_code in (200, 201), response.get_json()
    assert "CACHE-1" in ids(search(indexed_client, "label printer blank"))


def test_an_edit_retires_cached_results_so_the_edited_text_is_what_matches(indexed_client):
    indexed_client.post("/api/v1/calls", json=NEW_CALL, headers=auth())
    assert "CACHE-1" in ids(search(indexed_client, "ribbon"))
    edited = {**NEW_CALL, "resolution": "Cleaned the print head."}
    assert indexed_client.put("/api/v1/calls/CACHE-1", json=edited, headers=auth()).status_code == 200
    assert "CACHE-1" not in ids(search(indexed_client, "ribbon"))


def test_the_cache_keeps_only_the_most_recently_used_results():
    cache = ResultCache(size=2)
    sources = (object(),)
    cache.put("a", sources, "result a")
    cache.put("b", sources, "result b")
    assert cache.get("a", sources) == "result a"
    cache.put("c", sources, "result c")
    assert cache.get("b", sources) is None
    assert cache.get("a", sources) == "result a" and cache.get("c", sources) == "result c"


def test_a_result_computed_from_other_sources_is_not_served():
    cache = ResultCache(size=10)
    vocabulary_then, vocabulary_now = {"router": 3}, {"router": 3}
    cache.put("q", (vocabulary_then,), "old result")
    assert cache.get("q", (vocabulary_now,)) is None
    assert len(cache) == 0


def test_size_zero_keeps_nothing():
    cache = ResultCache(size=0)
    cache.put("q", (), "result")
    assert cache.get("q", ()) is None
