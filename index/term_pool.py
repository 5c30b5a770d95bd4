"""The segment writer's pool of postings, kept a term at a time, spilled and merged a term at a time.

Whoosh's ``PostingPool`` holds each posting as a tuple of about 200 bytes, sorts them all, spills sorted runs to
disk past its memory limit and merges them back one posting at a time: at a million calls that merge, not the
analysis, was the limit of an import. :class:`TermPool` keeps postings in compact arrays, so only the terms are
sorted; past the limit it writes a run of whole terms, and at commit it merges runs by term, concatenating each
term's arrays in run order (runs hold increasing document numbers, since documents are added in order).

A posting is either **counted** (a frequency-indexed text field, its postings given as frequencies: the weight is
the frequency times any field boost, the value is the frequency packed as Whoosh packs it) or **generic** (any
other field, its postings as Whoosh gives them: weight and value bytes). Counted postings go into three flat
arrays per field (term number, document, frequency) as a document's counts arrive, with no Python step per
posting; they are grouped by term only when the pool is written out. Generic postings are kept per term. A term
with postings of both kinds (a merged segment's postings joining new calls') is written as generic.
"""

import heapq
import pickle
from array import array
from itertools import groupby, repeat
from operator import itemgetter

import numpy as np
from whoosh.externalsort import SortingPool
from whoosh.writing import PostingPool

from index.grouping import group_by_term

# Memory accounting: a counted posting is a term number, a document number and a frequency (and a weight when
# boosted); a counted term its text, its bytes and a dictionary entry; a generic term a dictionary entry with its
# key and its growable arrays, a generic posting a document number, a weight and its value bytes.
POSTING_BYTES = 12
BOOSTED_POSTING_BYTES = 8
COUNTED_TERM_BYTES = 150
GENERIC_POSTING_BYTES = 4 + 8 + 40
TERM_BYTES = 300


class FrequencyValues:
    """The value bytes of a counted term's postings (each frequency packed big-endian, as ``pack_uint`` does),
    made per block: slicing gives a one-item list holding the block's values joined, which is what Whoosh's
    block writer joins them into."""

    def __init__(self, frequencies):
        self.frequencies = frequencies

    def __getitem__(self, block):
        return [np.asarray(self.frequencies[block], dtype=">u4").tobytes()]

    def __len__(self):
        return len(self.frequencies)

    def each(self):
        """Every posting's value bytes, one by one."""
        return [int(frequency).to_bytes(4, "big") for frequency in self.frequencies]


class _TermNumbers(dict):
    """Term texts to numbers: ``numbers[text]`` numbers a text on first sight, ``texts[number]`` is its bytes."""

    def __init__(self):
        super().__init__()
        self.texts = []
        self.text_bytes = 0

    def __missing__(self, text):
        number = self[text] = len(self.texts)
        btext = text.encode("utf-8")
        self.texts.append(btext)
        self.text_bytes += len(btext)
        return number


def _as_array(typecode, values):
    """A NumPy array's items as an ``array.array`` (whose slices are cheap copies)."""
    result = array(typecode)
    result.frombytes(values.tobytes())
    return result


class CountedField:
    """One field's counted postings, in the order documents added them: term number, document, frequency."""

    def __init__(self):
        self.numbers = _TermNumbers()
        self.terms = array("I")
        self.docs = array("I")
        self.frequencies = array("I")
        self.weights = None  # the postings' weights, once a boost other than 1.0 has been seen
        self.in_order = True  # each document added after those before it
        self._last_doc = -1

    def add(self, docnum, counts, fieldboost):
        """Add one document's term frequencies, multiplied by ``fieldboost`` for its weights."""
        if docnum <= self._last_doc:
            self.in_order = False
        self._last_doc = max(self._last_doc, docnum)
        if fieldboost != 1.0 and self.weights is None:
            self.weights = array("d", self.frequencies)
        self.terms.extend(map(self.numbers.__getitem__, counts))
        self.docs.extend(repeat(docnum, len(counts)))
        self.frequencies.extend(counts.values())
        if self.weights is not None:
            self.weights.extend([float(frequency) * fieldboost for frequency in counts.values()])

    def sorted_terms(self, fieldname):
        """Yield ``(fieldname, btext, ids, weights, FrequencyValues)`` for each term, by term bytes, ids ascending."""
        texts = self.numbers.texts
        numbers = np.frombuffer(self.terms, dtype=np.uint32)
        docs = np.frombuffer(self.docs, dtype=np.uint32)
        if self.in_order:
            order, ends = group_by_term(numbers, len(texts))
            ends = ends.tolist()
        else:
            order = np.lexsort((docs, numbers))
            ends = np.cumsum(np.bincount(numbers, minlength=len(texts))).tolist()
        ids = _as_array("I", docs[order])
        frequencies = _as_array("I", np.frombuffer(self.frequencies, dtype=np.uint32)[order])
        weights = None if self.weights is None else _as_array("d", np.frombuffer(self.weights)[order])
        for number in sorted(range(len(texts)), key=texts.__getitem__):
            start, end = ends[number - 1] if number else 0, ends[number]
            term_frequencies = frequencies[start:end]
            term_weights = array("d", term_frequencies) if weights is None else weights[start:end]
            yield fieldname, texts[number], ids[start:end], term_weights, FrequencyValues(term_frequencies)


class GroupedPostings:
    """A pool's postings in Whoosh's order, readable a term at a time or (for Whoosh) a posting at a time."""

    def __init__(self, terms):
        """
        :param terms: an iterable of ``(fieldname, btext, ids, weights, values)`` in field, then term order.
        """
        self._terms = terms

    def terms(self):
        """Yield ``(fieldname, btext, ids, weights, values)`` by field name, then term, ids ascending."""
        return iter(self._terms)

    def __iter__(self):
        for fieldname, btext, ids, weights, values in self.terms():
            each = values.each() if isinstance(values, FrequencyValues) else values
            for docnum, weight, value in zip(ids, weights, each):
                yield fieldname, btext, docnum, float(weight), value


def _generic_terms(fieldname, terms):
    """The generic terms of one field of an in-memory pool, by term bytes."""
    for btext in sorted(terms):
        ids, weights, values, unsorted = terms[btext]
        term = (fieldname, btext, ids, weights, values)
        yield _ordered(term) if unsorted else term


def _field_terms(fieldname, by_field, counted):
    """One field's terms in an in-memory pool, by term bytes: generic, counted, or both merged by term."""
    if fieldname not in counted:
        return _generic_terms(fieldname, by_field[fieldname])
    if fieldname not in by_field:
        return counted[fieldname].sorted_terms(fieldname)
    return _merged([_generic_terms(fieldname, by_field[fieldname]), counted[fieldname].sorted_terms(fieldname)])


def _ordered(term):
    """A term's postings sorted by document number (they arrive in order, except from some merges)."""
    fieldname, btext, ids, weights, values = term
    order = sorted(range(len(ids)), key=ids.__getitem__)
    each = values.each() if isinstance(values, FrequencyValues) else values
    return (
        fieldname,
        btext,
        array("I", (ids[i] for i in order)),
        array("d", (float(weights[i]) for i in order)),
        [each[i] for i in order],
    )


def _merged(streams):
    """Terms of several sorted streams (runs, in order, then memory), each term's postings concatenated."""
    merged = heapq.merge(*streams, key=itemgetter(0, 1))
    for (fieldname, btext), parts in groupby(merged, key=itemgetter(0, 1)):
        parts = list(parts)
        if len(parts) == 1:
            yield parts[0]
            continue
        ids, weights = array("I"), array("d")
        counted = all(isinstance(part[4], FrequencyValues) for part in parts)
        values = array("I") if counted else []
        for _, _, part_ids, part_weights, part_values in parts:
            ids.extend(part_ids)
            weights.extend(part_weights)
            if counted:
                values.extend(part_values.frequencies)
            else:
                values.extend(part_values.each() if isinstance(part_values, FrequencyValues) else part_values)
        term = (fieldname, btext, ids, weights, FrequencyValues(values) if counted else values)
        in_order = bool(np.all(np.diff(np.frombuffer(ids, dtype=np.uint32).astype(np.int64)) > 0))
        yield term if in_order else _ordered(term)


def _as_record(term):
    """A term as a run on disk keeps it: a counted term's frequencies, and its weights only when boosted."""
    fieldname, btext, ids, weights, values = term
    if not isinstance(values, FrequencyValues):
        return fieldname, btext, ids, weights, None, values
    frequencies = values.frequencies
    boosted = weights != array("d", frequencies)
    return fieldname, btext, ids, weights if boosted else None, frequencies, None


def _from_record(record):
    fieldname, btext, ids, weights, frequencies, values = record
    if frequencies is None:
        return fieldname, btext, ids, weights, values
    weights = weights if weights is not None else array("d", frequencies)
    return fieldname, btext, ids, weights, FrequencyValues(frequencies)


class TermPool(PostingPool):
    """Whoosh's posting pool, keeping postings grouped by term instead of as one tuple each."""

    def __init__(self, tempstore, segment, limitmb=128, **kwargs):
        super().__init__(tempstore, segment, limitmb=limitmb, **kwargs)
        self._by_field = {}
        self._counted = {}

    def add(self, item):
        """Add one ``(fieldname, btext, docnum, weight, valuebytes)`` posting."""
        fieldname, btext, docnum, weight, value = item
        if docnum < 0:  # Whoosh's spelling-graph marker: kept as a plain tuple
            self.current.append(item)
            self.currentsize += TERM_BYTES
        else:
            terms = self._by_field.get(fieldname)
            if terms is None:
                terms = self._by_field[fieldname] = {}
                self.fieldnames.add(fieldname)
            entry = terms.get(btext)
            if entry is None:
                entry = terms[btext] = [array("I"), array("d"), [], False]
                self.currentsize += TERM_BYTES + len(btext)
            elif entry[0][-1] >= docnum:
                entry[3] = True
            entry[0].append(docnum)
            entry[1].append(weight)
            entry[2].append(value)
            self.currentsize += GENERIC_POSTING_BYTES
        if self.currentsize > self.limit:
            self.save()

    def add_term_counts(self, fieldname, docnum, counts, fieldboost):
        """Add one document's postings in a frequency-indexed field.

        :param counts: term texts and their frequencies in the document.
        :param fieldboost: the document's boost for the field, multiplied into each weight.
        """
        field = self._counted.get(fieldname)
        if field is None:
            field = self._counted[fieldname] = CountedField()
            self.fieldnames.add(fieldname)
        terms_before, bytes_before = len(field.numbers.texts), field.numbers.text_bytes
        field.add(docnum, counts, fieldboost)
        posting_bytes = POSTING_BYTES + (BOOSTED_POSTING_BYTES if field.weights is not None else 0)
        self.currentsize += (
            posting_bytes * len(counts)
            + COUNTED_TERM_BYTES * (len(field.numbers.texts) - terms_before)
            + field.numbers.text_bytes
            - bytes_before
        )
        if self.currentsize > self.limit:
            self.save()

    def _take_sorted(self):
        by_field, self._by_field = self._by_field, {}
        counted, self._counted = self._counted, {}
        names = sorted(by_field.keys() | counted.keys())
        return (term for name in names for term in _field_terms(name, by_field, counted))

    def save(self):
        """Write the pool's terms to a run on disk, a whole term a record, as they come in order."""
        if self.current:  # spelling-graph markers: Whoosh's own runs of tuples for everything
            self.current.extend(GroupedPostings(self._take_sorted()))
            SortingPool.save(self)
        elif self._by_field or self._counted:
            path, run = self._new_run()
            for term in self._take_sorted():
                pickle.dump(_as_record(term), run, pickle.HIGHEST_PROTOCOL)
            run.close()
            self._add_run(path)
        self.currentsize = 0

    def _read_terms(self, path):
        handle = self._open_run(path)
        try:
            while True:
                try:
                    record = pickle.load(handle)
                except EOFError:
                    return
                yield _from_record(record)
        finally:
            handle.close()
            self._remove_run(path)

    def items(self, maxfiles=128):
        """The pool's postings in order, a term at a time: from memory, or merged by term with the runs."""
        if self.current:
            self.save()
            return super().items(maxfiles)
        if not self.runs:
            return GroupedPostings(self._take_sorted())
        streams = [self._read_terms(path) for path in self.runs]
        self.runs = []
        return GroupedPostings(_merged([*streams, self._take_sorted()]))
