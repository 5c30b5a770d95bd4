"""Opening the index in use while a writer commits: a table of contents replaced under the reader is read again.

A commit writes the index's new table of contents and deletes the old one. A process opening the index lists the
tables, then reads the newest: a commit in between leaves it a name whose file is gone. Whoosh's table of contents
read is made to fail that way once (the race itself takes a loaded machine to show).
"""

import pytest
from whoosh import index as whoosh_index

from index.build import rebuild
from index.generations import OPEN_TRIES, IndexHome
from store.records import validate_record


@pytest.fixture
def home(store, data_folder):
    store.upsert([validate_record({"id": "C-1", "title": "Printer offline", "problem": "The printer shows offline."})])
    home = IndexHome(data_folder)
    rebuild(store, home)
    return home


def _table_of_contents_gone(times, monkeypatch):
    """Make Whoosh's table of contents read fail ``times`` times as if a commit had deleted it; returns the reads."""
    read = whoosh_index.TOC.read
    reads = []

    def racing_read(*args, **kwargs):
        reads.append(args)
        if len(reads) <= times:
            raise FileNotFoundError("_MAIN_1.toc")
        return read(*args, **kwargs)

    monkeypatch.setattr(whoosh_index.TOC, "read", staticmethod(racing_read))
    return reads


def test_an_index_whose_table_of_contents_a_commit_replaced_while_it_was_read_opens_on_a_later_try(home, monkeypatch):
    reads = _table_of_contents_gone(2, monkeypatch)
    index = home.open_index()
    with index.searcher() as searcher:
        assert searcher.doc_count() == 1
    assert len(reads) > 2


def test_an_index_that_keeps_vanishing_is_not_tried_forever(home, monkeypatch):
    reads = _table_of_contents_gone(10 * OPEN_TRIES, monkeypatch)
    with pytest.raises(FileNotFoundError):
        home.open_index()
    assert len(reads) <= 2 * OPEN_TRIES  # each try reads it once
