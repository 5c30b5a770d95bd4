import csv

import pytest

from analyzers.spelling import DATA_PATH, is_spelling_variant, uk_to_us_pairs, us_spelling


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("colour", "color"),
        ("colours", "colors"),
        ("licence", "license"),
        ("licences", "licenses"),
        ("organise", "organize"),
        ("organised", "organized"),
        ("organising", "organizing"),
        ("cancelled", "canceled"),
        ("centre", "center"),
        ("catalogue", "catalog"),
        ("grey", "gray"),
        ("behaviour", "behavior"),
        ("aluminium", "aluminum"),
        ("color", "color"),
        ("router", "router"),
        ("0x80070005", "0x80070005"),
        ("", ""),
    ],
    ids=[
        "colour",
        "plural",
        "licence-noun",
        "licence-plural",
        "ise",
        "ise-past",
        "ise-ing",
        "double-l",
        "re-er",
        "ue",
        "grey",
        "our",
        "aluminium",
        "us-form-unchanged",
        "unknown-unchanged",
        "code-unchanged",
        "empty",
    ],
)
def test_us_spelling(word, expected):
    assert us_spelling(word) == expected


@pytest.mark.parametrize(
    "word",
    [
        "programme",
        "programmes",
        "disc",
        "discs",
        "tyre",
        "tyres",
        "cheque",
        "cheques",
        "metre",
        "metres",
        "draught",
        "storey",
        "kerb",
        "practise",
        "tonne",
        "whisky",
        "analogue",
        "dialogue",
        "prise",
        "enquiry",
        "annexe",
        "apprise",
    ],
)
def test_sense_dependent_variant_is_left_alone(word):
    assert us_spelling(word) == word


@pytest.mark.parametrize(
    ("word", "expected"),
    [("licence", True), ("colour", True), ("license", False), ("router", False), ("tyre", False)],
    ids=["uk-noun", "uk-our", "us-form", "plain-word", "sense-dependent"],
)
def test_is_spelling_variant(word, expected):
    assert is_spelling_variant(word) is expected


def test_list_covers_at_least_ten_thousand_forms():
    assert len(uk_to_us_pairs()) >= 10_000


def test_list_is_lowercase_and_never_maps_a_form_to_itself():
    pairs = uk_to_us_pairs()
    assert [form for form, us in pairs.items() if form == us or form != form.lower()] == []


def test_list_file_has_two_columns_on_every_data_line():
    with open(DATA_PATH, encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if not row[0].startswith("#")]
    assert rows[0] == ["variant", "us"]
    assert {len(row) for row in rows} == {2}


def test_source_note_keeps_the_varcon_copyright():
    note = (DATA_PATH.parent / "uk_to_us.SOURCE.md").read_text(encoding="utf-8")
    assert "Copyright 2000-2019 by Kevin Atkinson" in note
    assert "Copyright 1993, Geoff Kuenning" in note
