"""The segment writer's pool of postings, kept a term at a time, spilled and merged a term at a time.

Whoosh's ``PostingPool`` holds each posting as a tuple of about 200 bytes, sorts them all, spills sorted runs to
disk past its memory limit and merges the runs back one posting at a time: at a million calls that merge, not the
analysis, was the limit of an import. :class:`TermPool` keeps each term's postings in compact arrays (document
numbers and frequencies, about 8 bytes a posting), already in document order, so only the terms are sorted; past
the limit it writes a run of whole terms, and at commit it merges runs by term, concatenating each term's arrays
in run order (runs hold increasing document numbers, since documents are added in order).

A term is either **counted** (a frequency-indexed text field, its postings given as frequencies: the weight is
the frequency times any field boost, the value is the frequency packed as Whoosh packs it) or **generic** (any
other field, its postings as Whoosh gives them: weight and value bytes). A counted term that a merged segment's
postings join becomes generic.
"""

import heapq
import pickle
from array import array
from itertools import groupby
from operator import itemgetter

import numpy as np
from whoosh.externalsort import SortingPool
from whoosh.writing import PostingPool

# Memory accounting: a counted posting is a document number and a frequency; a term is a dictionary entry
# with its key and its growable arrays.
POSTING_BYTES = 8
GENERIC_POSTING_BYTES = 4 + 8 + 40
TERM_BYTES = 300
_COUNTED, _GENERIC = 0, 1


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


def _term_output(fieldname, btext, entry):
    """``(fieldname, btext, ids, weights, values)`` of one term in the pool, its postings in document order."""
    kind, ids, second, third, unsorted = entry
    if kind == _COUNTED:
        weights = third if third is not None else array("d", second)
        term = (fieldname, btext, ids, weights, FrequencyValues(second))
    else:
        term = (fieldname, btext, ids, second, third)
    return _ordered(term) if unsorted else term


def _as_generic(entry):
    """Turn a counted term's entry into a generic one in place (a merged segment's postings join it)."""
    _, ids, frequencies, weights, unsorted = entry
    entry[:] = [_GENERIC, ids, weights if weights is not None else array("d", frequencies)]
    entry += [FrequencyValues(frequencies).each(), unsorted]


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


def _sorted_terms(by_field):
    """The terms of an in-memory pool in Whoosh's order: field, then term bytes."""
    for fieldname in sorted(by_field):
        terms = by_field[fieldname]
        for btext in sorted(terms):
            yield _term_output(fieldname, btext, terms[btext])


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

    def _terms_of(self, fieldname):
        terms = self._by_field.get(fieldname)
        if terms is None:
            terms = self._by_field[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms

    def add(self, item):
        """Add one ``(fieldname, btext, docnum, weight, valuebytes)`` posting."""
        fieldname, btext, docnum, weight, value = item
        if docnum < 0:  # Whoosh's spelling-graph marker: kept as a plain tuple
            self.current.append(item)
            self.currentsize += TERM_BYTES
        else:
            terms = self._terms_of(fieldname)
            entry = terms.get(btext)
            if entry is None:
                entry = terms[btext] = [_GENERIC, array("I"), array("d"), [], False]
                self.currentsize += TERM_BYTES + len(btext)
            else:
                if entry[0] == _COUNTED:
                    _as_generic(entry)
                if entry[1][-1] >= docnum:
                    entry[4] = True
            entry[1].append(docnum)
            entry[2].append(weight)
            entry[3].append(value)
            self.currentsize += GENERIC_POSTING_BYTES
        if self.currentsize > self.limit:
            self.save()

    def add_term_counts(self, fieldname, docnum, counts, fieldboost):
        """Add one document's postings in a frequency-indexed field.

        :param counts: term texts and their frequencies in the document.
        :param fieldboost: the document's boost for the field, multiplied into each weight.
        """
        terms = self._terms_of(fieldname)
        new_terms = new_bytes = 0
        for text, freq in counts.items():
            btext = text.encode("utf-8")
            entry = terms.get(btext)
            if entry is None:
                entry = terms[btext] = [_COUNTED, array("I"), array("I"), None, False]
                new_terms += 1
                new_bytes += len(btext)
            else:
                if entry[1][-1] >= docnum:
                    entry[4] = True
                if entry[0] == _GENERIC:
                    entry[1].append(docnum)
                    entry[2].append(float(freq) * fieldboost)
                    entry[3].append(freq.to_bytes(4, "big"))
                    continue
            entry[1].append(docnum)
            entry[2].append(freq)
            if fieldboost != 1.0 and entry[3] is None:
                entry[3] = array("d", entry[2][:-1])
            if entry[3] is not None:
                entry[3].append(float(freq) * fieldboost)
        self.currentsize += POSTING_BYTES * len(counts) + TERM_BYTES * new_terms + new_bytes
        if self.currentsize > self.limit:
            self.save()

    def _take_sorted(self):
        by_field, self._by_field = self._by_field, {}
        return _sorted_terms(by_field)

    def save(self):
        """Write the pool's terms to a run on disk, a whole term a record, as they come in order."""
        if self.current:  # spelling-graph markers: Whoosh's own runs of tuples for everything
            self.current.extend(GroupedPostings(self._take_sorted()))
            SortingPool.save(self)
        elif self._by_field:
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
        streams = [self._read_terms(path) for path in self.runs]
        self.runs = []
        return GroupedPostings(_merged([*streams, self._take_sorted()]))
