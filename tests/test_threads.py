"""One ``SearchService`` shared by many threads while writes add segments: every answer right, nothing closed
under a running search (issue #17, "Threads").

A real SQLite store and Whoosh index; a writer thread stores a call and applies it to the index, again and
again, so each search may find a new segment and a new searcher; reader threads search, list a customer's
calls (Whoosh's own matchers, which seek and read posting blocks) and read stored fields all the while.
Python switches threads every few microseconds here instead of every 5 ms, so that a race has many chances
to show within seconds.
"""

import sys
import threading
import time
import traceback

import pytest

from engine.service import SearchService
from engine.vocabulary import VocabularyCache
from index.build import apply_changes, rebuild
from index.generations import IndexHome
from store.records import validate_record

READERS = 8
WRITES = 60
CUSTOMERS = 4
CALLS_PER_CUSTOMER = 40
# Consonant-only made-up words: the analyzers keep them whole, so each names exactly one call.
_LETTERS = "bcdfghjklmnpqrstvwxz"


def made_up_word(number):
    letters = []
    for _ in range(4):
        number, digit = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return "zq" + "".join(letters)


def call(number, customer):
    return validate_record(
        {
            "id": f"C-{number:04d}",
            "title": f"Printer {made_up_word(number)} offline after the update",
            "problem": "The office printer shows offline although it is on and connected.",
            "resolution": "Removed the printer, added it again by IP address and restarted the spooler.",
            "product": "Printers",
            "customer_id": f"ACC-{customer}",
            "customer_name": f"Customer {customer}",
            "status": "open" if number % 3 else "resolved",
        }
    )


@pytest.fixture
def fast_thread_switches():
    """Thread switches every 10 microseconds for the length of a test."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.00001)
    yield
    sys.setswitchinterval(before)


def test_many_threads_sharing_one_service_while_writes_add_segments_get_every_answer_right(
    store, data_folder, fast_thread_switches
):
    first = [call(n, n % CUSTOMERS) for n in range(CUSTOMERS * CALLS_PER_CUSTOMER)]
    store.upsert(first)
    home = IndexHome(data_folder)
    rebuild(store, home)
    # A time limit no search reaches on this small index, so every answer is complete and can be checked.
    service = SearchService(home, VocabularyCache(), time_limit_ms=60_000)
    customer_ids = {c: {r["id"] for r in first if r["extra"]["customer_id"] == f"ACC-{c}"} for c in range(CUSTOMERS)}
    written, done, errors, wrong, answers = [], threading.Event(), [], [], [0]

    def write():
        try:
            for n in range(len(first), len(first) + WRITES):
                store.upsert([call(n, n % CUSTOMERS)])
                apply_changes(store, home, timeout=30)
                written.append(n)
        except Exception as error:  # collected, so the assert below names it
            errors.append(f"writer: {error!r}\n{traceback.format_exc()}")
        finally:
            done.set()

    def read(reader):
        turn = 0
        while not done.is_set() or turn < 20:
            turn += 1
            try:
                check_one_answer(reader, turn)
                answers[0] += 1
            except Exception as error:  # collected, so the assert below names it
                errors.append(f"reader {reader}: {error!r}\n{traceback.format_exc()}")
                return

    def check_one_answer(reader, turn):
        if turn % 2:
            number = written[-1 - (turn % len(written))] if written else (reader * 7 + turn) % len(first)
            found = [hit["id"] for hit in service.search(made_up_word(number), limit=5).hits]
            if f"C-{number:04d}" not in found:
                wrong.append(f"search for C-{number:04d} found {found}")
        else:
            customer = (reader + turn) % CUSTOMERS
            context = service.customer_context(f"ACC-{customer}")
            listed = {c["id"] for c in context["open"] + context["past"]}
            if not customer_ids[customer] <= listed or context["customer_name"] != f"Customer {customer}":
                wrong.append(f"ACC-{customer}: {len(customer_ids[customer] - listed)} calls missing")

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert (errors, wrong[:5]) == ([], []), "\n".join(errors + wrong[:5])
    assert len(written) == WRITES
    assert answers[0] >= READERS * 20
    # Searchers replaced while searches ran on them were closed once those searches ended, none before.
    assert service.leases.closed >= 1
    assert service.leases.users() == 0
    assert time.monotonic() - started < 300
