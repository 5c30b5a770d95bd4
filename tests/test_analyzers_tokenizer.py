import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzers.pipeline import surface_pipeline
from analyzers.tokenizer import CHUNK_PATTERN, split_chunk


def texts(value):
    """Every piece the chunks of ``value`` split into, in order, case kept."""
    return [piece for match in CHUNK_PATTERN.finditer(value) for piece, _, _ in split_chunk(match.group(0))]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rowter wont conect", ["rowter", "wont", "conect"]),
        ("Outlook won't open", ["Outlook", "wont", "open"]),
        ("won’t can't", ["wont", "cant"]),
        ("user's files", ["users", "files"]),
        ("0x80070005", ["0x80070005"]),
        ("Error E-1102", ["Error", "E-1102", "E", "1102"]),
        ("802.11ac", ["802.11ac", "802", "11ac"]),
        ("P1102w win10", ["P1102w", "win10"]),
        ("iOS 17.2", ["iOS", "17.2", "17", "2"]),
        ("bob@example.com", ["bob@example.com", "bob", "example", "com"]),
        ("mail.example.com.", ["mail.example.com", "mail", "example", "com"]),
        ("Wi-Fi", ["Wi-Fi", "WiFi", "Wi", "Fi"]),
        ("e-mail", ["e-mail", "email", "e", "mail"]),
        ("c++ and C#", ["c++", "and", "C#"]),
        ("TCP/IP, DNS; (proxy)!", ["TCP", "IP", "DNS", "proxy"]),
        ("café", ["café"]),
        ("?!... --- ...", []),
        ("", []),
    ],
    ids=[
        "plain-words",
        "apostrophe-stripped",
        "curly-apostrophes",
        "possessive",
        "hex-error-code",
        "dashed-error-code",
        "wifi-standard",
        "model-numbers",
        "version",
        "email",
        "hostname-trailing-dot",
        "hyphenated-letters-also-joined",
        "e-mail-joined",
        "language-names",
        "punctuation-splits",
        "accented-word",
        "only-punctuation",
        "empty",
    ],
)
def test_chunks_split_into_expected_pieces(value, expected):
    assert texts(value) == expected


def test_parts_share_the_compound_position_and_have_their_own_chars():
    words = [(w.text, w.position, w.start, w.end) for w in surface_pipeline().words("see E-1102 now")]
    assert words == [
        ("see", 0, 0, 3),
        ("e-1102", 1, 4, 10),
        ("e", 1, 4, 5),
        ("1102", 1, 6, 10),
        ("now", 2, 11, 14),
    ]


def test_chars_cover_the_apostrophe_word():
    words = [(w.text, w.start, w.end) for w in surface_pipeline().words("it won't")]
    assert words == [("it", 0, 2), ("wont", 3, 8)]


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(exclude_categories=()),
            st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
            st.sampled_from("'-.@#+ "),
        )
    )
)
def test_splitting_never_raises_and_yields_nonempty_pieces_inside_the_text(value):
    for match in CHUNK_PATTERN.finditer(value):
        for piece, start, end in split_chunk(match.group(0)):
            assert isinstance(piece, str)
            assert piece != ""
            assert 0 <= match.start() + start < match.start() + end <= len(value)
