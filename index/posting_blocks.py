"""Whoosh 2.7.4's ``W3FieldWriter.add_postings`` a term at a time: the same posting blocks and term entries, fewer
steps.

Whoosh writes each posting with four method calls and each term through a term-info object, a block buffer
and generators that encode it. Here a term's postings arrive whole (:class:`index.term_pool.GroupedPostings`):
its blocks go to Whoosh's block writer already filled, and a term of one block, as most terms are (every
call id and passage digest, most words), is encoded and written in one function with the same bytes. Long
lists are also written as plain arrays (:mod:`index.posting_file`).

The tests (``tests/test_fast_writing.py``) compare every file with Whoosh's own, byte for byte.
"""

import pickle
import zlib
from array import array
from itertools import groupby
from operator import itemgetter, sub

import numpy as np
from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import _INT_SIZE, pack_int, pack_long, pack_ushort
from whoosh.util.numeric import length_to_byte

from index import posting_file, whoosh_compat
from index.posting_file import PostingFileWriter
from index.term_pool import GroupedPostings

# Beyond any field length: "no length in this block" while taking a block's shortest non-zero length.
_NO_LENGTH = 2**62


def _zeros(count):
    return np.zeros(count, dtype=np.int64)


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


def _write_one_block_term(fieldwriter, btext, ids, weights, values, term_lengths):
    """Write a term of one block as ``start_term``, ``add`` for each posting and ``finish_term`` write it.

    The same bytes (tested against Whoosh's writer), without Whoosh's steps for each posting and call: most
    terms (every id, and most words) have a single block.

    :param ids: the term's document numbers, ascending (an ``array("I")``), at most one block of them.
    :param weights: their weights; ``values``, their value bytes; ``term_lengths``, their documents' lengths.
    :returns: the block's ``(count, highest weight, shortest length)``, as its header keeps them.
    """
    postwriter = fieldwriter._postwriter
    postfile = postwriter._postfile
    count = len(ids)
    block_weights = array("f", weights)
    lengths = term_lengths.tolist()
    present = [length for length in lengths if length > 0]
    minlength = min(present) if present else None
    maxlength = max(lengths)
    maxweight = max(0, max(weights))

    first = block_weights[0]
    if block_weights.count(first) == count:
        mini_weights = None if first == 1.0 else first
    else:
        mini_weights = tuple(block_weights)
    fixed_size = fieldwriter._format.fixed_value_size()
    values = [value for value in values[0:count] if value]
    if fixed_size is None or fixed_size < 0:
        mini_values = tuple(values)
    else:
        mini_values = None if fixed_size == 0 else b"".join(values)
    deltas = (ids[0], *map(sub, ids[1:], ids))
    databytes = pickle.dumps((deltas, mini_weights, mini_values), 2)
    compression = postwriter._compression
    if compression:
        databytes = zlib.compress(databytes, compression)
    minlength_byte, maxlength_byte = length_to_byte(minlength), length_to_byte(maxlength)
    infobytes = pickle.dumps((count, ids[-1], maxweight, compression, minlength_byte, maxlength_byte), 2)

    offset = postfile.tell()
    postfile.write(WHOOSH3_HEADER_MAGIC)
    postfile.write(pack_int(-(len(infobytes) + len(databytes))))
    postfile.write(infobytes)
    postfile.write(databytes)
    extent = len(WHOOSH3_HEADER_MAGIC) + _INT_SIZE + len(infobytes) + len(databytes)
    terminfo = W3TermInfo._struct.pack(
        False, sum(block_weights), count, minlength_byte, maxlength_byte, maxweight, ids[0], ids[-1]
    )
    fieldwriter._tindex.add(pack_ushort(fieldwriter._fieldid) + btext, terminfo + pack_long(offset) + pack_int(extent))
    return count, maxweight, minlength or 0


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
        if self._postwriter._inlinelimit <= len(ids) <= self._postwriter._blocklimit and not self._postwriter._byteids:
            term_lengths = field_lengths[ids] if field_lengths is not None else _zeros(len(ids))
            block = _write_one_block_term(self, btext, ids, weights, values, term_lengths)
            arrays.add(fieldname, btext, ids, weights, *zip(block))
            continue
        self.start_term(btext)
        term_lengths = field_lengths[ids] if field_lengths is not None else _zeros(len(ids))
        blocks = _write_term(self._postwriter, ids, weights, values, term_lengths)
        self.finish_term()
        arrays.add(fieldname, btext, ids, weights, *zip(*blocks))
    if lastfn is not None:
        self.finish_field()
    arrays.close()
