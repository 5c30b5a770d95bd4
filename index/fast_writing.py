"""Whoosh 2.7.4's segment writer without its per-posting overheads: Whoosh's files byte for byte, plus posting arrays.

Whoosh handles every posting of a document several times in Python: a ``Token`` per word,
a frequency count, a generator that encodes it, a tuple (about 200 bytes) checked by
assertions on its way into a pool that is sorted, spilled to disk in pickled runs past
256 MB and merged back; then, at commit, four method calls per posting, one of which
reads the document's field length through a column reader. On an import this plumbing,
not our analysis, took most of the time.

Here:

- a field indexed by term frequency whose analyzer lists a text's terms directly
  (:class:`analyzers.analyzer.PipelineAnalyzer`) has its terms counted in one step;
- the pool (:class:`index.term_pool.TermPool`) keeps postings grouped by term in compact arrays,
  already in document order, spills whole terms past its memory limit and merges them back a term
  at a time;
- at commit each document's field length is read once per field and Whoosh's own block
  writer is handed whole blocks; long lists are also written as plain arrays into the segment
  (:mod:`index.posting_file`), which searches read without decoding.

Whoosh's files (blocks, statistics, compression) are exactly what Whoosh writes: the tests compare
them byte for byte. Any other field, option or pool takes Whoosh's own path.

``index.whoosh_compat.install`` puts this in place for the process and the indexing processes it forks.
"""

from array import array
from collections import Counter
from itertools import groupby
from operator import itemgetter

import numpy as np
from whoosh.codec.base import OutOfOrderError
from whoosh.formats import Frequency
from whoosh.writing import SegmentWriter

from index import posting_file, whoosh_compat
from index.posting_file import PostingFileWriter
from index.term_pool import GroupedPostings, TermPool

# Beyond any field length: "no length in this block" while taking a block's shortest non-zero length.
_NO_LENGTH = 2**62
# Whoosh's own method, for the writers this module leaves to Whoosh (captured before any patch).
_WHOOSH_ADD_DOCUMENT = SegmentWriter.add_document


def term_counts(field, value):
    """How often each term occurs in a value, when the field can be indexed by the direct path.

    :param field: a Whoosh field of the schema.
    :param value: the value given for it.
    :returns: a ``Counter`` of term texts in first-occurrence order, or ``None`` when Whoosh's
        own path must index this field (another format, a field boost, a list value, or an
        analyzer without a one-loop term list).
    """
    terms = getattr(field.analyzer, "index_terms", None)
    field_format = field.format
    if terms is None or type(field_format) is not Frequency or field_format.field_boost != 1.0:
        return None
    if not isinstance(value, str):
        return None
    texts = terms(value)
    return None if texts is None else Counter(texts)


def add_document(self, **fields):
    """``SegmentWriter.add_document`` (Whoosh 2.7.4) with frequency-indexed text fields counted directly.

    Schemas with a spelling field (which this index does not use) are left to Whoosh.
    """
    if not isinstance(self.pool, TermPool) or any(field.separate_spelling() for field in self.schema):
        return _WHOOSH_ADD_DOCUMENT(self, **fields)
    self._check_state()
    perdocwriter = self.perdocwriter
    schema = self.schema
    docnum = self.docnum
    pool = self.pool

    docboost = self._doc_boost(fields)
    fieldnames = sorted([name for name in fields.keys() if not name.startswith("_")])
    self._check_fields(schema, fieldnames)

    perdocwriter.start_doc(docnum)
    for fieldname in fieldnames:
        value = fields.get(fieldname)
        if value is None:
            continue
        field = schema[fieldname]

        length = 0
        if field.indexed:
            fieldboost = self._field_boost(fields, fieldname, docboost)
            counts = term_counts(field, value)
            if counts is not None:
                if field.scorable:
                    length = sum(counts.values())
                pool.add_term_counts(fieldname, docnum, counts, fieldboost)
            else:
                for tbytes, freq, weight, vbytes in field.index(value):
                    if field.scorable:
                        length += freq
                    pool.add((fieldname, tbytes, docnum, weight * fieldboost, vbytes))

        vformat = field.vector
        if vformat:
            vitems = vformat.word_values(value, field.analyzer, mode="index")
            vitems = sorted((text, weight, vbytes) for text, _, weight, vbytes in vitems)
            perdocwriter.add_vector_items(fieldname, field, vitems)

        customval = fields.get("_stored_%s" % fieldname, value)
        perdocwriter.add_field(fieldname, field, customval if field.stored else None, length)

        column = field.column_type
        if column and customval is not None:
            perdocwriter.add_column_value(fieldname, column, field.to_column_value(customval))

    perdocwriter.finish_doc()
    self._added = True
    self.docnum += 1


def _block_stats(weights, term_lengths, starts):
    """Each block's highest weight and its shortest and longest non-zero length, as Python numbers."""
    maxima = np.maximum.reduceat(np.asarray(weights, dtype=np.float64), starts).tolist()
    lengths = np.asarray(term_lengths, dtype=np.int64)
    shortest = np.minimum.reduceat(np.where(lengths > 0, lengths, _NO_LENGTH), starts).tolist()
    longest = np.maximum.reduceat(lengths, starts).tolist()
    return maxima, shortest, longest


def _write_term(postwriter, ids, weights, values, term_lengths):
    """Hand one term's postings to Whoosh's posting writer a block at a time.

    The writer must have been started on the term. The last block stays buffered, as
    ``add_posting`` leaves it, so that ``finish_postings`` writes it as the last one.

    :returns: each block's ``(count, highest weight, shortest length)``, as its header keeps them.
    """
    limit = postwriter._blocklimit
    count = len(ids)
    starts = range(0, count, limit)
    maxima, shortest, longest = _block_stats(weights, term_lengths, list(starts))
    blocks = []
    for number, start in enumerate(starts):
        end = min(start + limit, count)
        if start:
            postwriter._write_block()
        postwriter._ids = array("I", ids[start:end])
        postwriter._weights = array("f", weights[start:end])
        postwriter._values = [value for value in values[start:end] if value]
        postwriter._maxweight = max(0, maxima[number])
        postwriter._minlength = shortest[number] if shortest[number] != _NO_LENGTH else None
        postwriter._maxlength = longest[number]
        blocks.append((end - start, postwriter._maxweight, postwriter._minlength or 0))
    return blocks


def _terms_of(items):
    """Sorted posting tuples, a term at a time, as :meth:`GroupedPostings.terms` gives them.

    A term whose postings are all Whoosh's spelling-graph markers (document -1) comes with no
    postings: its field is still started, as Whoosh does.
    """
    last = None
    for key, postings in groupby(items, key=itemgetter(0, 1)):
        if last is not None and key < last:
            raise OutOfOrderError(f"Term {last[0]}:{last[1]!r} .. {key[0]}:{key[1]!r}")
        last = key
        ids, weights, values = [], [], []
        for _, _, docnum, weight, value in postings:
            if docnum != -1:
                ids.append(docnum)
                weights.append(weight)
                values.append(value)
        yield key[0], key[1], ids, weights, values


def add_postings(self, schema, lengths, items):
    """``FieldWriter.add_postings`` for Whoosh's W3 codec, a term at a time instead of a posting at a time.

    :param schema: the index schema.
    :param lengths: a per-document reader of the segment (field lengths), or None.
    :param items: sorted ``(fieldname, btext, docnum, weight, valuebytes)`` postings, or
        :class:`GroupedPostings`.
    """
    terms = items.terms() if isinstance(items, GroupedPostings) else _terms_of(items)
    arrays = PostingFileWriter(self._segment.create_file(self._storage, posting_file.EXTENSION))
    lastfn = None
    field_lengths = None
    for fieldname, btext, ids, weights, values in terms:
        if fieldname != lastfn:
            if lastfn is not None:
                self.finish_field()
            self.start_field(fieldname, schema[fieldname])
            field_lengths = whoosh_compat.document_lengths(lengths, fieldname) if lengths else None
            lastfn = fieldname
        if not ids:
            continue
        self.start_term(btext)
        term_lengths = field_lengths[ids] if field_lengths is not None else np.zeros(len(ids), dtype=np.int64)
        blocks = _write_term(self._postwriter, ids, weights, values, term_lengths)
        self.finish_term()
        arrays.add(fieldname, btext, ids, weights, *zip(*blocks))
    if lastfn is not None:
        self.finish_field()
    arrays.close()
