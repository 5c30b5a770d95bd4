"""Three servers under gunicorn, each with its own index, following one PostgreSQL store (issue #8)."""

import random
import statistics
import string
import threading
import time
from urllib.parse import quote

import pytest
from postgres import postgres_server  # noqa: F401 (fixture)
from servers import WRITE_KEY, Server

pytestmark = pytest.mark.postgres

SERVERS = 3
VISIBLE_WITHIN_S = 1.0
CONVERGE_TIMEOUT_S = 30
# Three servers, PostgreSQL and the test's pollers share two cores, so a search may now and then wait far past
# the product's 300 ms limit and be cut short (best hits so far): these tests compare whole answers.
SEARCH_TIME_LIMIT_MS = 10_000
AUTH = {"Authorization": f"Bearer {WRITE_KEY}"}
_tokens = random.Random(8)


def unique_token():
    """A made-up word no other call holds (12 random letters, so no typo or sound-alike match is closer)."""
    return "".join(_tokens.choice(string.ascii_lowercase) for _ in range(12))


def call(call_id, token, n=0):
    return {
        "id": call_id,
        "title": f"Spooler stuck {token}",
        "problem": "printer spooler stuck " + "queue " * (n % 9),
        "resolution": "Restarted the print spooler service",
        "product": "Windows",
        "category": "printing",
    }


def search_ids(server, query, limit=10):
    return [hit["id"] for hit in search(server, query, limit)["results"]]


def search(server, query, limit):
    """The answer of one server to a query, which must be whole (not cut short by the search time limit)."""
    response = server.request("GET", f"/api/v1/search?q={quote(query)}&limit={limit}", timeout=10)
    assert response.status == 200, response.body
    answer = response.json()
    assert not answer["timed_out"], f"a search ran past {SEARCH_TIME_LIMIT_MS} ms: {answer}"
    return answer


RANKING_QUERY = "printer spooler stuck queue"


def ranked_groups(server, query):
    """The hits of a query as (score, sorted ids with that score) pairs, best first.

    Scores are compared to two decimals, as the page shows them.
    """
    groups = {}
    for hit in search(server, query, limit=50)["results"]:
        groups.setdefault(round(hit["score"], 2), []).append(hit["id"])
    return [(score, sorted(ids)) for score, ids in groups.items()]


def health(server):
    return server.request("GET", "/healthz", timeout=10).json()


def wait_until_converged(servers, timeout=CONVERGE_TIMEOUT_S):
    """Wait until every server's index has applied the store's latest change; returns that seq."""
    deadline = time.monotonic() + timeout
    while True:
        states = [health(server) for server in servers]
        latest = {state["store"].get("latest_seq") for state in states}
        applied = {state["index"].get("applied_seq") for state in states}
        if len(latest) == 1 and applied == latest and all(s["index"]["lag_changes"] == 0 for s in states):
            return latest.pop()
        if time.monotonic() > deadline:
            raise AssertionError(f"the servers did not converge: {states}")
        time.sleep(0.1)


def start_server(folder, url):
    folder.mkdir(exist_ok=True)
    return Server(
        folder,
        workers=1,
        log_path=folder.parent / f"{folder.name}.log",
        KB_DATABASE_URL=url,
        KB_FOLLOW_INTERVAL_S=0.1,
        KB_RATE_LIMIT="",
        KB_SEARCH_TIME_LIMIT_MS=str(SEARCH_TIME_LIMIT_MS),
    ).start()


@pytest.fixture(scope="module")
def cluster(postgres_server, tmp_path_factory):  # noqa: F811
    """Three gunicorn servers (one worker each, to spare the cores), three data folders, one database."""
    url = postgres_server.create_database()
    root = tmp_path_factory.mktemp("replicas")
    servers = []
    try:
        for n in range(SERVERS):
            servers.append(start_server(root / f"server{n}", url))
        yield servers
    finally:
        for server in servers:
            server.stop()


def write(server, body):
    response = server.request("POST", "/api/v1/calls", body=body, headers=AUTH, timeout=30)
    assert response.status == 201, response.body
    return time.monotonic()


def test_a_write_through_any_server_is_searchable_on_every_server_within_a_second(cluster, capsys):
    per_server, lags, late, errors = 100, [], [], []

    def write_and_watch(origin):
        try:
            for i in range(per_server):
                token, call_id = unique_token(), f"R-{origin}-{i:03}"
                returned = write(cluster[origin], call(call_id, token, i))
                pending = set(range(SERVERS))
                while pending and time.monotonic() - returned < 5:
                    for n in sorted(pending):
                        if call_id in search_ids(cluster[n], token, limit=5):
                            lag = time.monotonic() - returned
                            (lags if lag <= VISIBLE_WITHIN_S else late).append(lag)
                            pending.discard(n)
                    time.sleep(0.02)  # a breath between rounds, so the polling does not starve the servers
                late.extend([float("inf")] * len(pending))
        except Exception as error:  # collected, so the asserts below name it
            errors.append(repr(error))

    threads = [threading.Thread(target=write_and_watch, args=(origin,)) for origin in range(SERVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    quantiles = statistics.quantiles(lags + late, n=100)
    with capsys.disabled():
        print(
            f"\n  catch-up lag over {len(lags) + len(late)} (call, server) pairs: "
            f"p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms, "
            f"max {max(lags + late) * 1000:.0f} ms, "
            f"{len(late)} over {VISIBLE_WITHIN_S:g} s"
        )
    # On the 2-core test machine (three servers, PostgreSQL and the pollers share it) a Whoosh segment merge
    # now and then pushes a pair past 1 s; that is allowed for at most 1 % of pairs, and never past 2 s.
    assert len(lags) + len(late) == SERVERS * per_server * SERVERS
    assert len(late) <= len(lags + late) // 100
    assert max(lags + late) <= 2 * VISIBLE_WITHIN_S

    wait_until_converged(cluster)
    answers = [ranked_groups(server, RANKING_QUERY) for server in cluster]
    assert len(answers[0]) >= 2
    # The last group of equal scores may be cut at a different place by the limit.
    assert [groups[:-1] for groups in answers[1:]] == [answers[0][:-1]] * (SERVERS - 1)
    assert [groups[-1][0] for groups in answers[1:]] == [answers[0][-1][0]] * (SERVERS - 1)


def test_hits_with_equal_scores_come_in_the_same_order_on_every_server(cluster):
    wait_until_converged(cluster)
    answers = [search_ids(server, RANKING_QUERY, limit=50) for server in cluster]
    assert answers[1:] == [answers[0]] * (SERVERS - 1)


def test_a_server_killed_while_others_write_catches_up_with_nothing_missing(cluster):
    ids, stop, errors = [], threading.Event(), []

    def keep_writing(origin):
        i = 0
        try:
            while not stop.is_set() or i < 15:
                call_id = f"K-{origin}-{i:03}"
                write(cluster[origin], call(call_id, unique_token(), i))
                ids.append(call_id)
                i += 1
        except Exception as error:  # collected, so the asserts below name it
            errors.append(repr(error))

    writers = [threading.Thread(target=keep_writing, args=(origin,)) for origin in (0, 1)]
    for thread in writers:
        thread.start()
    time.sleep(0.5)
    victim = cluster[2]
    victim.kill()
    time.sleep(1.0)
    victim.start()
    stop.set()
    for thread in writers:
        thread.join()
    assert errors == []

    latest = wait_until_converged(cluster)
    state = health(victim)
    assert (state["index"]["applied_seq"], state["index"]["lag_changes"], state["index"]["lag_seconds"]) == (
        latest,
        0,
        0.0,
    )
    found = set(search_ids(victim, "printer spooler stuck", limit=50))
    assert len(ids) >= 30
    missing = [call_id for call_id in ids if call_id not in found and not _searchable(victim, call_id)]
    assert missing == []


def _searchable(server, call_id):
    record = server.request("GET", f"/api/v1/calls/{call_id}").json()
    token = record["title"].split()[-1]
    return call_id in search_ids(server, token, limit=5)


def test_searches_go_on_and_writes_answer_503_while_postgres_is_down(cluster, postgres_server):  # noqa: F811
    before = [
        call_id
        for call_id, _ in [
            (f"P-before-{n}", write(cluster[n], call(f"P-before-{n}", "outage", n))) for n in range(SERVERS)
        ]
    ]
    wait_until_converged(cluster)
    postgres_server.stop()
    try:
        for server in cluster:
            assert sorted(set(search_ids(server, "outage", limit=10)) & set(before)) == before
            refused = server.request("POST", "/api/v1/calls", body=call("P-during", "outage"), headers=AUTH)
            assert (refused.status, refused.headers["content-type"]) == (503, "application/json")
            body = refused.json()
            assert sorted(body) == ["error", "errors", "ok", "status"]
            assert (body["ok"], body["status"]) == (False, 503)
            assert body["error"].startswith("the store is unavailable, nothing was written: PostgreSQL is unreachable")
            state = server.request("GET", "/healthz")
            assert (state.status, state.json()["store"]["ok"], state.json()["index"]["ok"]) == (200, False, True)
    finally:
        postgres_server.start()

    after = [f"P-after-{n}" for n in range(SERVERS)]
    for n, call_id in enumerate(after):
        write(cluster[n], call(call_id, "recovered", n))
    wait_until_converged(cluster)
    for server in cluster:
        assert sorted(search_ids(server, "recovered", limit=10)) == after
        assert "P-during" not in search_ids(server, "outage", limit=10)
