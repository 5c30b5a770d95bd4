"""The segment writer's pool groups postings by term, each term's postings in document order."""

from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from index.grouping import group_by_term
from index.term_pool import CountedField


@given(st.lists(st.integers(min_value=0, max_value=20), max_size=300))
def test_grouping_by_term_is_a_stable_sort_by_term_number(numbers):
    numbers = np.array(numbers, dtype=np.uint32)
    order, ends = group_by_term(numbers, 21)
    assert order.tolist() == np.argsort(numbers, kind="stable").tolist()
    assert ends.tolist() == np.cumsum(np.bincount(numbers, minlength=21)).tolist()


def written(field):
    terms = field.sorted_terms("text")
    return [(btext, list(ids), list(weights), values.each()) for _, btext, ids, weights, values in terms]


def test_a_fields_terms_come_by_term_bytes_with_their_documents_frequencies_and_packed_values():
    field = CountedField()
    field.add(0, Counter(["printer", "jam", "printer"]), 1.0)
    field.add(1, Counter(["jam"]), 1.0)
    assert written(field) == [
        (b"jam", [0, 1], [1.0, 1.0], [b"\x00\x00\x00\x01", b"\x00\x00\x00\x01"]),
        (b"printer", [0], [2.0], [b"\x00\x00\x00\x02"]),
    ]


def test_a_boost_reaches_the_weights_of_its_document_only():
    field = CountedField()
    field.add(0, Counter(["jam"]), 1.0)
    field.add(1, Counter(["jam", "jam"]), 1.5)
    assert written(field) == [(b"jam", [0, 1], [1.0, 3.0], [b"\x00\x00\x00\x01", b"\x00\x00\x00\x02"])]


def test_documents_added_out_of_order_still_come_out_in_document_order():
    field = CountedField()
    field.add(5, Counter(["jam", "printer"]), 1.0)
    field.add(2, Counter(["jam"]), 1.0)
    assert [(btext, ids) for btext, ids, _, _ in written(field)] == [(b"jam", [2, 5]), (b"printer", [5])]
