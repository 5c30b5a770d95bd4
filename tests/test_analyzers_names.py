"""Names as heard: tokens, codes and the name guard (issue #18). What must match and what must not."""

import pytest

from analyzers.names import name_codes, name_tokens, names_sound_alike, organisation_tokens

MUST_MATCH = [
    ("jon", "john"),
    ("smyth", "smith"),
    ("katherine", "catherine"),
    ("kathryn", "catherine"),
    ("mcdonald", "macdonald"),
    ("stephen", "steven"),
    ("brown", "braun"),
    ("reid", "reed"),
    ("thompson", "thomson"),
    ("ann", "anne"),
    ("philips", "phillips"),
    ("marc", "mark"),
    ("jonathan", "johnathan"),
    ("mohammed", "muhammad"),
]
MUST_NOT_MATCH = [
    ("jon", "jan"),
    ("tim", "tom"),
    ("smith", "smart"),
    ("smith", "schmidt"),
    ("richard", "richardson"),
    ("john", "johnson"),
    ("smith", "smithers"),
    ("ellen", "allen"),
    ("bob", "rob"),
    ("catherine", "katrina"),
    ("smith", "smith"),
    ("j", "john"),
]


@pytest.mark.parametrize(("heard", "name"), MUST_MATCH, ids=[f"{a}-{b}" for a, b in MUST_MATCH])
def test_a_spelling_heard_matches_the_name(heard, name):
    assert (names_sound_alike(heard, name), names_sound_alike(name, heard)) == (True, True)


@pytest.mark.parametrize(("heard", "name"), MUST_NOT_MATCH, ids=[f"{a}-{b}" for a, b in MUST_NOT_MATCH])
def test_another_name_or_the_same_spelling_is_not_a_sound_alike(heard, name):
    assert names_sound_alike(heard, name) is False


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("John Smith", ["john", "smith"]),
        ("Seán O'Brien-Smyth", ["sean", "obrien", "smyth"]),
        ("  MACDONALD,  Catherine ", ["macdonald", "catherine"]),
        ("", []),
    ],
    ids=["plain", "accent-apostrophe-hyphen", "upper-comma", "empty"],
)
def test_name_tokens(text, tokens):
    assert name_tokens(text) == tokens


def test_organisation_tokens_leave_out_words_every_company_has():
    assert organisation_tokens("The Harbour Dental Ltd") == ["harbour", "dental"]


@pytest.mark.parametrize(
    ("token", "codes"),
    [("smyth", ("SM0", "S530")), ("smith", ("SM0", "S530")), ("catherine", ("K0RN", "C365")), ("j", ("", ""))],
    ids=["smyth", "smith", "catherine", "initial"],
)
def test_name_codes(token, codes):
    assert name_codes(token) == codes
