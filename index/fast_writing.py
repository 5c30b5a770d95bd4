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
- an untokenized field (``ID``) gives its one term without Whoosh's token machinery;
- the pool (:class:`index.term_pool.TermPool`) keeps postings in compact arrays, groups them by
  term only when it writes them out, spills whole terms past its memory limit and merges them back
  a term at a time;
- at commit (:mod:`index.posting_blocks`) each term's blocks are written whole, and a term of one
  block (most terms) without Whoosh's calls for each posting; long lists are also written as plain
  arrays into the segment (:mod:`index.posting_file`), which searches read without decoding.

Whoosh's files (blocks, statistics, compression) are exactly what Whoosh writes: the tests compare
them byte for byte. Any other field, option or pool takes Whoosh's own path.

``index.whoosh_compat.install`` puts this in place for the process and the indexing processes it forks.
"""

from collections import Counter

from whoosh.analysis import IDTokenizer
from whoosh.formats import Existence, Frequency
from whoosh.writing import SegmentWriter

from index.term_pool import TermPool

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


def whole_value_term(field, value):
    """The one term an untokenized field (``ID``) indexes for a value, when Whoosh's own path would give just that.

    :param field: a Whoosh field of the schema.
    :param value: the value given for it.
    :returns: the term's bytes (the value in UTF-8), or ``None`` when Whoosh's own path must index this field
        (another analyzer or format, or a list value).
    """
    if type(field.analyzer) is IDTokenizer and type(field.format) is Existence and isinstance(value, str):
        return value.encode("utf-8")
    return None


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
            elif (whole := whole_value_term(field, value)) is not None:
                if field.scorable:
                    length = 1
                pool.add((fieldname, whole, docnum, field.format.field_boost * fieldboost, b""))
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
