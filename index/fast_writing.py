"""Whoosh 2.7.4's segment writer without its per-posting overheads: the same index, byte for byte.

Whoosh handles every posting of a document several times in Python: a ``Token`` per word,
a frequency count, a generator that encodes it, a tuple (about 200 bytes) checked by
assertions on its way into a pool that is sorted, spilled to disk in pickled runs past
256 MB and merged back; then, at commit, four method calls per posting, one of which
reads the document's field length through a column reader. On an import this plumbing,
not our analysis, took most of the time.

Here:

- a field indexed by term frequency whose analyzer lists a text's terms directly
  (:class:`analyzers.analyzer.PipelineAnalyzer`) has its terms counted in one step;
- the pool (:class:`TermPool`) keeps postings grouped by term in compact arrays (about
  20 bytes a posting), already in document order, so nothing is sorted but the terms;
- at commit each document's field length is read once per field and Whoosh's own block
  writer is handed whole blocks.

The files (blocks, statistics, compression) are exactly what Whoosh writes: the tests
compare them byte for byte. Any other field, option or pool takes Whoosh's own path, and
past its memory limit the pool spills sorted runs to disk as Whoosh's does.

``index.whoosh_compat.install`` puts this in place for the process and the indexing processes it forks.
"""

from array import array
from collections import Counter
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from whoosh.codec.base import OutOfOrderError
from whoosh.externalsort import SortingPool
from whoosh.formats import Frequency
from whoosh.system import pack_uint
from whoosh.writing import PostingPool, SegmentWriter

from index import posting_file
from index.posting_file import PostingFileWriter

# Whoosh's own method, for the writers this module leaves to Whoosh (captured before any patch).
_WHOOSH_ADD_DOCUMENT = SegmentWriter.add_document
# Memory accounting of the grouped pool: a posting is a document number, a weight and a
# shared value; a term is a dictionary entry with its key and three growable arrays.
POSTING_BYTES = 4 + 8 + 8
TERM_BYTES = 300


@lru_cache(maxsize=4096)
def _frequency_bytes(freq):
    return pack_uint(freq)


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


class GroupedPostings:
    """A pool's postings in Whoosh's order, readable a term at a time or (for Whoosh) a posting at a time."""

    def __init__(self, by_field, unsorted_terms):
        self._by_field = by_field
        self._unsorted_terms = unsorted_terms

    def terms(self):
        """Yield ``(fieldname, btext, ids, weights, values)`` by field name, then term, ids ascending."""
        for fieldname in sorted(self._by_field):
            terms = self._by_field[fieldname]
            for btext in sorted(terms):
                ids, weights, values = terms[btext]
                if (fieldname, btext) in self._unsorted_terms:
                    order = sorted(range(len(ids)), key=ids.__getitem__)
                    ids = array("I", (ids[i] for i in order))
                    weights = array("d", (weights[i] for i in order))
                    values = [values[i] for i in order]
                yield fieldname, btext, ids, weights, values

    def __iter__(self):
        for fieldname, btext, ids, weights, values in self.terms():
            for docnum, weight, value in zip(ids, weights, values):
                yield fieldname, btext, docnum, weight, value


class TermPool(PostingPool):
    """Whoosh's posting pool, keeping postings grouped by term instead of as one tuple each."""

    def __init__(self, tempstore, segment, limitmb=128, **kwargs):
        super().__init__(tempstore, segment, limitmb=limitmb, **kwargs)
        self._by_field = {}
        self._unsorted_terms = set()

    def _postings_of(self, fieldname, btext):
        terms = self._by_field.get(fieldname)
        if terms is None:
            terms = self._by_field[fieldname] = {}
            self.fieldnames.add(fieldname)
        postings = terms.get(btext)
        if postings is None:
            postings = terms[btext] = (array("I"), array("d"), [])
            self.currentsize += TERM_BYTES + len(btext)
        return postings

    def add(self, item):
        """Add one ``(fieldname, btext, docnum, weight, valuebytes)`` posting."""
        fieldname, btext, docnum, weight, value = item
        if docnum < 0:  # Whoosh's spelling-graph marker: kept as a plain tuple
            self.current.append(item)
            self.currentsize += TERM_BYTES
        else:
            ids, weights, values = self._postings_of(fieldname, btext)
            if ids and ids[-1] >= docnum:
                self._unsorted_terms.add((fieldname, btext))
            ids.append(docnum)
            weights.append(weight)
            values.append(value)
            self.currentsize += POSTING_BYTES
        if self.currentsize > self.limit:
            self.save()

    def add_term_counts(self, fieldname, docnum, counts, fieldboost):
        """Add one document's postings in a frequency-indexed field.

        :param counts: term texts and their frequencies in the document.
        :param fieldboost: the document's boost for the field, multiplied into each weight.
        """
        terms = self._by_field.get(fieldname)
        if terms is None:
            terms = self._by_field[fieldname] = {}
            self.fieldnames.add(fieldname)
        new_terms = new_bytes = 0
        for text, freq in counts.items():
            btext = text.encode("utf-8")
            postings = terms.get(btext)
            if postings is None:
                postings = terms[btext] = (array("I"), array("d"), [])
                new_terms += 1
                new_bytes += len(btext)
            elif postings[0][-1] >= docnum:
                self._unsorted_terms.add((fieldname, btext))
            postings[0].append(docnum)
            postings[1].append(float(freq) * fieldboost)
            postings[2].append(_frequency_bytes(freq))
        self.currentsize += POSTING_BYTES * len(counts) + TERM_BYTES * new_terms + new_bytes
        if self.currentsize > self.limit:
            self.save()

    def _take_grouped(self):
        grouped = GroupedPostings(self._by_field, self._unsorted_terms)
        self._by_field, self._unsorted_terms = {}, set()
        return grouped

    def save(self):
        """Write the pool to a sorted run on disk, as Whoosh does past the memory limit.

        The grouped postings are already in order, so they are written as they are read, never
        gathered into one list of tuples (which would take ten times the pool's memory).
        """
        if self._by_field and not self.current:
            path, run = self._new_run()
            self._write_run(run, self._take_grouped())
            self._add_run(path)
        else:
            if self._by_field:
                self.current.extend(self._take_grouped())
            SortingPool.save(self)
        self.currentsize = 0

    def items(self, maxfiles=128):
        """The pool's postings in order: grouped when all are in memory, else Whoosh's merge of runs."""
        if not self.runs and not self.current:
            return self._take_grouped()
        if not self.runs and self._by_field:
            self.current.extend(self._take_grouped())
        return super().items(maxfiles)


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


def _field_lengths(lengths, fieldname):
    """Every document's length in a field, as ``doc_field_length`` gives it, indexed by docnum."""
    doc_field_length = lengths.doc_field_length
    return [doc_field_length(docnum, fieldname) for docnum in range(lengths.doc_count_all())]


def _write_term(postwriter, ids, weights, values, term_lengths):
    """Hand one term's postings to Whoosh's posting writer a block at a time.

    The writer must have been started on the term. The last block stays buffered, as
    ``add_posting`` leaves it, so that ``finish_postings`` writes it as the last one.

    :returns: each block's ``(count, highest weight, shortest length)``, as its header keeps them.
    """
    limit = postwriter._blocklimit
    count = len(ids)
    blocks = []
    for start in range(0, count, limit):
        end = min(start + limit, count)
        if start:
            postwriter._write_block()
        block_lengths = [length for length in term_lengths[start:end] if length]
        block_weights = weights[start:end]
        postwriter._ids = array("I", ids[start:end])
        postwriter._weights = array("f", block_weights)
        postwriter._values = [value for value in values[start:end] if value]
        postwriter._maxweight = max(0, max(block_weights))
        postwriter._minlength = min(block_lengths) if block_lengths else None
        postwriter._maxlength = max(block_lengths) if block_lengths else 0
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
            field_lengths = _field_lengths(lengths, fieldname) if lengths else None
            lastfn = fieldname
        if not ids:
            continue
        self.start_term(btext)
        term_lengths = [field_lengths[i] for i in ids] if field_lengths is not None else [0] * len(ids)
        blocks = _write_term(self._postwriter, ids, weights, values, term_lengths)
        self.finish_term()
        arrays.add(fieldname, btext, ids, weights, *zip(*blocks))
    if lastfn is not None:
        self.finish_field()
    arrays.close()
