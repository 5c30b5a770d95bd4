"""The naive products the benchmarks compare against: plain Whoosh BM25 and SQLite FTS5.

Both index the same catch-all text as the product (``index.schema.catch_all_text``: the
title twice, problem, resolution, tags) and run an OR of the query's words, top N, with
no stemming, spelling map, typo correction, sound-alikes or synonyms.
"""

import re
import sqlite3

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.analysis import StandardAnalyzer
from whoosh.fields import ID, TEXT, Schema

from index import whoosh_compat
from index.schema import catch_all_text

WRITER_MEMORY_MB = 256
_FTS_WORD = re.compile(r"\w+")


class WhooshBaseline:
    """Whoosh 2.7.4 out of the box: StandardAnalyzer on one catch-all field, BM25F, OR query, and
    Whoosh's own file reading even in a process where the product's is installed."""

    name = "whoosh"

    def __init__(self, folder):
        """
        :param folder: an empty folder (a Path) for the index.
        """
        self.folder = folder
        self.analyzer = StandardAnalyzer()
        self._index = None
        self._searcher = None

    def build(self, records):
        """Index clean call records in one writer and one commit.

        :param records: an iterable of call records with ``id`` and the catch-all fields.
        :returns: the number of documents indexed.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        schema = Schema(id=ID(stored=True, unique=True), text=TEXT(analyzer=self.analyzer, phrase=False))
        self._index = whoosh_index.create_in(str(self.folder), schema)
        with whoosh_compat.shipped():
            return self._write(records)

    def _write(self, records):
        writer = self._index.writer(limitmb=WRITER_MEMORY_MB)
        count = 0
        for record in records:
            writer.add_document(id=record["id"], text=catch_all_text(record))
            count += 1
        writer.commit()
        return count

    def open(self):
        """Open an index built earlier in ``folder`` (e.g. in another process).

        :returns: self.
        """
        self._index = whoosh_index.open_dir(str(self.folder))
        return self

    def query_for(self, text):
        """The Whoosh OR query for ``text``: one term per distinct analyzed word."""
        terms = list(dict.fromkeys(token.text for token in self.analyzer(text)))
        if not terms:
            return Q.NullQuery
        return Q.Or([Q.Term("text", term) for term in terms])

    def search(self, text, limit=10):
        """The ids of the top ``limit`` calls for ``text``, best first."""
        if self._searcher is None:
            with whoosh_compat.shipped():
                self._searcher = self._index.searcher()
        return [hit["id"] for hit in self._searcher.search(self.query_for(text), limit=limit)]

    def close(self):
        """Close the searcher."""
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


class Fts5Baseline:
    """SQLite FTS5 (unicode61 tokenizer, no stemming) over one catch-all column, ranked by bm25()."""

    name = "fts5"

    def __init__(self, path):
        """
        :param path: the SQLite file to create (a Path).
        """
        self.path = path
        self.db = None

    def build(self, records):
        """Insert clean call records in one transaction.

        :param records: an iterable of call records.
        :returns: the number of rows inserted.
        """
        self.path.unlink(missing_ok=True)  # a file an earlier run left (bench.speed --reuse) is built anew
        self.db = sqlite3.connect(str(self.path))
        self.db.execute("CREATE VIRTUAL TABLE calls USING fts5(id UNINDEXED, text)")
        with self.db:
            cursor = self.db.executemany(
                "INSERT INTO calls (id, text) VALUES (?, ?)",
                ((record["id"], catch_all_text(record)) for record in records),
            )
        return cursor.rowcount

    @staticmethod
    def match_expression(text):
        """The FTS5 MATCH text for ``text``: its distinct words, quoted, joined by OR."""
        words = dict.fromkeys(word.lower() for word in _FTS_WORD.findall(text))
        return " OR ".join(f'"{word}"' for word in words)

    def search(self, text, limit=10):
        """The ids of the top ``limit`` calls for ``text``, best bm25 first."""
        expression = self.match_expression(text)
        if not expression:
            return []
        rows = self.db.execute(
            "SELECT id FROM calls WHERE calls MATCH ? ORDER BY bm25(calls) LIMIT ?", (expression, limit)
        )
        return [row[0] for row in rows]

    def close(self):
        """Close the connection."""
        if self.db is not None:
            self.db.close()
            self.db = None
