import pytest

from analyzers.typos import TypoCorrector, english_words

CORPUS = {
    "router": 120,
    "roster": 3,
    "connect": 90,
    "connection": 60,
    "outlook": 200,
    "password": 150,
    "passwords": 20,
    "bluetooth": 40,
    "configuration": 30,
    "configurations": 5,
    "authentication": 25,
    "exchange": 80,
    "hdmi": 15,
    "macos": 12,
    "printer": 70,
    "printers": 30,
    "pointer": 4,
    "vpn": 50,
    "0x80070005": 3,
    "p1102w": 2,
}


@pytest.fixture(scope="module")
def corrector():
    return TypoCorrector(CORPUS)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("rowter", ["router", "roster"]),
        ("conect", ["connect"]),
        ("outlok", ["outlook"]),
        ("Outlok", ["outlook"]),
        ("pasword", ["password"]),
        ("blutooth", ["bluetooth"]),
        ("configuraton", ["configuration", "configurations"]),
        ("authentcation", ["authentication"]),
        ("exchnage", ["exchange"]),
        ("passwrds", ["passwords", "password"]),
        ("printes", ["printer", "printers"]),
        ("prnter", ["printer"]),
        ("bluetoothx", ["bluetooth"]),
    ],
    ids=[
        "one-edit-two-results-by-frequency",
        "missing-letter",
        "outlok",
        "typed-capitalised",
        "pasword",
        "long-word",
        "two-edit-by-distance-then-frequency",
        "long-missing-letter",
        "transposition",
        "distance-before-frequency",
        "ties-by-frequency",
        "one-edit-only-under-eight-letters",
        "extra-letter",
    ],
)
def test_corrections(corrector, typed, expected):
    assert corrector.corrections(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "0x80070005",
        "P1102w",
        "p1102x",
        "hdmi",
        "HDMI",
        "macos",
        "MACOSX",
        "VPNN",
        "headset",
        "licence",
        "colour",
        "vpm",
        "wi-fi",
        "rtr",
        "",
        "routerroutersrouterrouters",
    ],
    ids=[
        "hex-code",
        "model-number",
        "unknown-model-number",
        "corpus-jargon",
        "all-capitals",
        "corpus-macos",
        "all-capitals-unknown",
        "all-capitals-near-corpus-word",
        "english-word",
        "uk-spelling-in-english-list",
        "uk-spelling-variant",
        "under-four-letters",
        "non-alphabetic",
        "three-letters",
        "empty",
        "over-twenty-letters",
    ],
)
def test_no_correction(corrector, typed):
    assert corrector.corrections(typed) == []


def test_short_word_gets_only_one_edit(corrector):
    assert [corrector.corrections("routr"), corrector.corrections("rowtr")] == [["router"], []]


def test_limit_caps_the_list(corrector):
    assert corrector.corrections("configuraton", limit=1) == ["configuration"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [("router", True), ("HDMI", True), ("headset", True), ("colour", True), ("rowter", False)],
    ids=["corpus", "corpus-any-case", "english", "uk-variant", "typo"],
)
def test_is_known(corrector, word, expected):
    assert corrector.is_known(word) is expected


def test_english_list_is_loaded_once():
    assert english_words() is english_words()


def test_two_edit_search_finds_what_a_full_scan_finds():
    import jellyfish

    words = ["abcdefgh", "xbcdefgy", "abcdefghij", "badcefgh", "abcdef", "zzcdefgh", "abcxyzgh"]
    corrector = TypoCorrector({word: 1 for word in words})
    typed = "abcdefgg"
    expected = sorted(w for w in words if jellyfish.damerau_levenshtein_distance(typed, w) <= 2)
    assert sorted(corrector.corrections(typed, limit=10)) == expected


def test_a_word_typed_again_gets_the_same_corrections_whatever_the_caller_did_with_the_first(corrector):
    first = corrector.corrections("pasword")
    first.append("changed by the caller")
    assert corrector.corrections("pasword") == ["password"]
    assert corrector.corrections("pasword", limit=0) == []


def test_a_rare_corpus_word_a_letter_off_a_far_commoner_one_is_likelier_that_one():
    typos = TypoCorrector({"address": 400, "adress": 3, "recieve": 1, "receive": 120, "book": 90})
    assert typos.likelier_spelling("adress") == "address"
    assert typos.likelier_spelling("recieve") == "receive"  # letters swapped
    assert typos.likelier_spelling("address") == ""
    assert typos.likelier_spelling("book") == ""


def test_a_corpus_word_is_left_alone_unless_the_other_is_far_commoner_english_or_begins_alike():
    assert TypoCorrector({"address": 400, "adress": 30}).likelier_spelling("adress") == ""  # not 50 times as common
    assert TypoCorrector({"which": 900, "witch": 2}).likelier_spelling("witch") == ""  # an English word
    assert TypoCorrector({"cloud": 900, "icloud": 2}).likelier_spelling("icloud") == ""  # a product, not a typo
    assert TypoCorrector({"address": 400, "adress": 3}).likelier_spelling("ADRESS") == ""  # typed as an acronym
    assert TypoCorrector({"printer": 400, "printr": 1}).likelier_spelling("0x80070005") == ""
