"""What only the PostgreSQL store has to get right: concurrent writers, outages, shared migration (issue #8)."""

import threading

import pytest
from postgres import postgres_server, postgres_store, postgres_url  # noqa: F401 (fixtures)
from servers import free_port

from store.base import StoreUnavailableError
from store.postgres import PostgresCallStore, portable_to_psycopg
from store.records import validate_record

pytestmark = pytest.mark.postgres


def record(call_id, **fields):
    return validate_record({"id": call_id, "title": "Printer offline", **fields})


def test_a_follower_reading_while_many_writers_commit_never_skips_a_change(postgres_url):
    """Seqs commit in order under the feed lock, so ``seq > applied`` never passes over a late commit."""
    writers, per_writer = 6, 40
    stores = [PostgresCallStore(postgres_url) for _ in range(writers + 1)]
    stores[0].migrate()
    seen, done = set(), threading.Event()

    def follow(store):
        applied = 0
        while True:
            finished = done.is_set()
            latest = store.latest_seq()
            seen.update(store.changed_ids(applied, latest))
            applied = latest
            if finished:
                return

    def write(store, n):
        for i in range(per_writer):
            store.upsert([record(f"W{n}-{i:03}")])

    follower = threading.Thread(target=follow, args=(stores[-1],))
    follower.start()
    threads = [threading.Thread(target=write, args=(stores[n], n)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    follower.join()
    for store in stores:
        store.close()
    assert len(seen) == writers * per_writer


def test_concurrent_upserts_of_the_same_new_id_insert_it_once(postgres_url):
    stores = [PostgresCallStore(postgres_url) for _ in range(4)]
    stores[0].migrate()
    summaries = []
    threads = [threading.Thread(target=lambda s=s: summaries.append(s.upsert([record("SAME")]))) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((s.inserted, s.unchanged) for s in summaries) == [(0, 1), (0, 1), (0, 1), (1, 0)]
    assert stores[0].changed_ids(0, stores[0].latest_seq()) == ["SAME"]
    for store in stores:
        store.close()


def test_servers_migrating_at_once_all_succeed(postgres_url):
    stores = [PostgresCallStore(postgres_url) for _ in range(4)]
    errors = []

    def migrate(store):
        try:
            store.migrate()
        except Exception as error:  # collected, so the assert below names it
            errors.append(error)

    threads = [threading.Thread(target=migrate, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].count() == 0
    for store in stores:
        store.close()


def test_unreachable_postgres_raises_store_unavailable():
    store = PostgresCallStore(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing")
    with pytest.raises(StoreUnavailableError) as error:
        store.count()
    assert str(error.value).startswith("PostgreSQL is unreachable: ")
    with pytest.raises(StoreUnavailableError):
        store.upsert([record("C-1")])


def test_a_restarted_postgres_is_used_again_without_reopening_the_store(postgres_server, postgres_store):
    postgres_store.upsert([record("C-1")])
    postgres_server.stop()
    try:
        with pytest.raises(StoreUnavailableError):
            postgres_store.upsert([record("C-2")])
        with pytest.raises(StoreUnavailableError):
            postgres_store.get("C-1")
    finally:
        postgres_server.start()
    assert postgres_store.upsert([record("C-3")]).inserted == 1
    assert sorted(postgres_store.content_hashes()) == ["C-1", "C-3"]


def test_a_connection_broken_while_idle_is_replaced_on_the_next_write(postgres_server, postgres_store):
    postgres_store.upsert([record("C-1")])
    postgres_server.stop()
    postgres_server.start()
    assert postgres_store.upsert([record("C-2")]).inserted == 1
    assert postgres_store.count() == 2


@pytest.mark.parametrize(
    ("portable", "expected"),
    [
        ("SELECT * FROM calls WHERE id = ?", "SELECT * FROM calls WHERE id = %s"),
        ("SELECT ? LIKE '50%'", "SELECT %s LIKE '50%%'"),
    ],
    ids=["placeholder", "percent-literal"],
)
def test_portable_sql_becomes_psycopg_sql(portable, expected):
    assert portable_to_psycopg(portable) == expected
