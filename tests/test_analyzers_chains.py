import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import LowercaseFilter

from analyzers.chains import (
    metaphone_analyzer,
    soundex_analyzer,
    surface_analyzer,
    text_analyzer,
    words_analyzer,
)
from analyzers.filters import (
    AccentFoldFilter,
    PhoneticCodeFilter,
    StopWordFilter,
    UkToUsSpellingFilter,
)
from analyzers.tokenizer import SupportTokenizer

ANALYZERS = {
    "text": text_analyzer,
    "words": words_analyzer,
    "metaphone": metaphone_analyzer,
    "soundex": soundex_analyzer,
    "surface": surface_analyzer,
}


def texts(analyzer, value, **kwargs):
    return [token.text for token in analyzer(value, **kwargs)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rowter wont conect", ["rowter", "wont", "conect"]),
        ("Outlook won't open", ["outlook", "wont", "open"]),
        ("colour printer licence", ["color", "printer", "licens"]),
        ("color printers license", ["color", "printer", "licens"]),
        ("organised cancelled", ["organiz", "cancel"]),
        ("organized canceled", ["organiz", "cancel"]),
        ("Café résumé", ["cafe", "resum"]),
        ("the E-1102 error", ["e-1102", "e", "1102", "error"]),
        ("Wi-Fi on my PC", ["wi-fi", "wifi", "wi", "fi", "my", "pc"]),
        ("macOS iOS 17.2", ["maco", "io", "17.2", "17", "2"]),
        ("mail bob@example.com", ["mail", "bob@example.com", "bob", "exampl", "com"]),
        ("programme disc tyre", ["programm", "disc", "tyre"]),
    ],
    ids=[
        "typos-untouched",
        "apostrophe",
        "uk-spellings",
        "us-spellings-same-tokens",
        "uk-ise-and-ll",
        "us-ize-and-l-same-tokens",
        "accents",
        "stopword-out-single-letter-part-kept",
        "short-words-kept",
        "version",
        "email",
        "sense-dependent-kept",
    ],
)
def test_text_analyzer(value, expected):
    assert texts(text_analyzer(), value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("The colour printers won't print", ["color", "printers", "wont", "print"]),
        ("blutooth headset", ["blutooth", "headset"]),
        ("HDMI 0x80070005 P1102w", ["hdmi", "0x80070005", "p1102w"]),
        ("wifi os pc", ["wifi", "os", "pc"]),
    ],
    ids=["not-stemmed", "typo-kept", "codes", "short-words"],
)
def test_words_analyzer(value, expected):
    assert texts(words_analyzer(), value) == expected


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("metaphone", "rowter router fone phone", ["RTR", "RTR", "FN", "FN"]),
        ("metaphone", "colour 0x80070005 wi-fi", ["KLR", "WF", "W", "F"]),
        ("soundex", "rowter router", ["R360", "R360"]),
        ("soundex", "17.2", []),
    ],
    ids=["metaphone-sound-alikes", "metaphone-drops-codes", "soundex", "soundex-no-letters"],
)
def test_phonetic_analyzers(name, value, expected):
    assert texts(ANALYZERS[name](), value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("The Colour printers", ["the", "colour", "printers"]),
        ("Café won't E-1102", ["cafe", "wont", "e-1102", "e", "1102"]),
    ],
    ids=["keeps-stop-words-and-uk-spelling", "folds-accents-and-splits-codes"],
)
def test_surface_analyzer(value, expected):
    assert texts(surface_analyzer(), value) == expected


def test_text_analyzer_positions_and_chars_for_highlighting():
    value = "The E-1102 error on Wi-Fi"
    tokens = [(t.text, t.pos, t.startchar, t.endchar) for t in text_analyzer()(value, positions=True, chars=True)]
    assert tokens == [
        ("e-1102", 1, 4, 10),
        ("e", 1, 4, 5),
        ("1102", 1, 6, 10),
        ("error", 2, 11, 16),
        ("wi-fi", 3, 20, 25),
        ("wifi", 3, 20, 25),
        ("wi", 3, 20, 22),
        ("fi", 3, 23, 25),
    ]


@pytest.mark.parametrize("name", sorted(ANALYZERS))
def test_analyzer_works_in_query_mode(name):
    analyzer = ANALYZERS[name]()
    index_texts = texts(analyzer, "colour rowter E-1102", positions=True, chars=True)
    query_texts = texts(analyzer, "colour rowter E-1102", mode="query")
    assert query_texts == index_texts


@pytest.mark.parametrize("name", sorted(ANALYZERS))
def test_analyzer_pickles_and_compares_equal(name):
    analyzer = ANALYZERS[name]()
    assert pickle.loads(pickle.dumps(analyzer)) == analyzer


@pytest.mark.parametrize(
    ("make", "other"),
    [
        (UkToUsSpellingFilter, AccentFoldFilter()),
        (AccentFoldFilter, UkToUsSpellingFilter()),
        (lambda: PhoneticCodeFilter("metaphone"), PhoneticCodeFilter("soundex")),
        (lambda: PhoneticCodeFilter("soundex"), PhoneticCodeFilter("metaphone")),
        (lambda: StopWordFilter(minsize=1), StopWordFilter(minsize=2)),
        (SupportTokenizer, LowercaseFilter()),
    ],
    ids=["spelling", "accent-fold", "metaphone", "soundex", "stop-words", "tokenizer"],
)
def test_filter_pickle_round_trip_equality_and_size(make, other):
    component = make()
    data = pickle.dumps(component)
    assert pickle.loads(data) == component
    assert make() == component
    assert (component == other) is False
    assert len(data) < 600


def test_phonetic_filter_rejects_unknown_algorithm():
    with pytest.raises(ValueError) as error:
        PhoneticCodeFilter("nysiis")
    assert str(error.value) == "unknown phonetic algorithm 'nysiis'; use one of metaphone, soundex"


@pytest.mark.parametrize(
    ("name", "is_morph"),
    [("text", True), ("words", True), ("metaphone", True), ("soundex", True), ("surface", False)],
)
def test_analyzers_report_morphing(name, is_morph):
    assert ANALYZERS[name]().has_morph() is is_morph


@pytest.mark.parametrize(
    "value",
    [
        "\ud800 lone \udfff surrogates",
        "\x00\x01\x1b[31m",
        "x" * 10_000,
        "a." * 5_000,
        ".,;!?" * 50,
        "ﬁle Ⅻ ß İstanbul",
        "\u0301\u0301abc",
    ],
    ids=[
        "surrogates",
        "control-chars",
        "ten-thousand-chars",
        "long-compound",
        "punctuation",
        "compatibility-forms",
        "leading-combining-marks",
    ],
)
@pytest.mark.parametrize("name", sorted(ANALYZERS))
def test_analyzers_survive_hostile_input(name, value):
    tokens = texts(ANALYZERS[name](), value, positions=True, chars=True)
    assert [type(text) for text in tokens] == [str] * len(tokens)


ANY_CHARACTER = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.sampled_from("'-.@#+ "),
)


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=ANY_CHARACTER),
    st.sampled_from(sorted(ANALYZERS)),
    st.sampled_from(["index", "query"]),
)
def test_analyzers_never_raise_on_any_text(value, name, mode):
    tokens = texts(ANALYZERS[name](), value, positions=True, chars=True, mode=mode)
    assert [type(text) for text in tokens] == [str] * len(tokens)
