import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzers.phonetic import PhoneticLookup, metaphone_code, soundex_code, sounds_alike


@pytest.mark.parametrize(
    ("word", "metaphone", "soundex"),
    [
        ("router", "RTR", "R360"),
        ("phone", "FN", "P500"),
        ("fone", "FN", "F500"),
        ("night", "NT", "N230"),
        ("0x80070005", "", ""),
        ("e-mail", "", ""),
        ("café", "", ""),
        ("", "", ""),
    ],
    ids=["router", "phone", "fone", "night", "hex-code", "hyphenated", "non-ascii", "empty"],
)
def test_codes(word, metaphone, soundex):
    assert (metaphone_code(word), soundex_code(word)) == (metaphone, soundex)


@pytest.mark.parametrize(
    ("typed", "candidate", "expected"),
    [
        ("rowter", "router", True),
        ("rowter", "writer", False),
        ("rowter", "reader", False),
        ("rowter", "rider", False),
        ("fone", "phone", True),
        ("nite", "night", True),
        ("outlok", "outlook", True),
        ("blutooth", "bluetooth", True),
        ("kwick", "quick", True),
        ("menshun", "mention", True),
        ("seshun", "session", True),
        ("router", "router", False),
        ("ip", "up", False),
        ("win10", "win11", False),
    ],
    ids=[
        "rowter-router",
        "rejects-writer",
        "rejects-reader",
        "rejects-rider",
        "f-ph",
        "nite-night",
        "outlok",
        "blutooth",
        "kw-qu",
        "shun-tion",
        "shun-ssion",
        "same-word",
        "too-short",
        "digits",
    ],
)
def test_sounds_alike(typed, candidate, expected):
    assert sounds_alike(typed, candidate) is expected


VOCABULARY = ["writer", "reader", "rider", "router", "rotor", "phone", "night", "outlook"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("rowter", ["router", "rotor"]),
        ("fone", ["phone"]),
        ("nite", ["night"]),
        ("Outlok", ["outlook"]),
        ("router", ["rotor"]),
        ("0x80070005", []),
        ("", []),
    ],
    ids=["rowter", "fone", "nite", "capitalised", "never-itself", "code", "empty"],
)
def test_lookup_candidates(typed, expected):
    assert PhoneticLookup(VOCABULARY).candidates(typed) == expected


def test_lookup_finds_a_word_whose_codes_differ_only_as_spelt_by_its_sound_skeleton():
    vocabulary = ["queries", "quarry", "transition", "mention"]
    assert PhoneticLookup(vocabulary).candidates("kweries") == ["queries"]  # Metaphone KWRS against KRS
    assert PhoneticLookup(vocabulary).candidates("transishun") == ["transition"]


def test_lookup_respects_limit():
    assert PhoneticLookup(VOCABULARY).candidates("rowter", limit=1) == ["router"]


@pytest.mark.parametrize(
    ("vocabulary", "expected"),
    [(["fane", "fine"], ["fane", "fine"]), (["fine", "fane"], ["fine", "fane"])],
    ids=["fane-first", "fine-first"],
)
def test_lookup_breaks_ties_by_vocabulary_order(vocabulary, expected):
    assert PhoneticLookup(vocabulary).candidates("fone") == expected


def test_lookup_skips_short_and_non_alphabetic_words():
    assert len(PhoneticLookup(["ab", "win10", "e-mail", "router", "router"])) == 1


@given(st.text(), st.text())
def test_phonetic_functions_never_raise(typed, candidate):
    assert isinstance(metaphone_code(typed), str)
    assert isinstance(soundex_code(typed), str)
    assert sounds_alike(typed, candidate) in (True, False)
    found = PhoneticLookup([candidate, "router"]).candidates(typed)
    assert [type(word) for word in found] == [str] * len(found)
