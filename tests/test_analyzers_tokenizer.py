import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzers.tokenizer import SupportTokenizer


def texts(value, **kwargs):
    return [token.text for token in SupportTokenizer()(value, **kwargs)]


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
def test_tokenizer_emits_expected_texts(value, expected):
    assert texts(value) == expected


def test_tokenizer_parts_share_the_compound_position_and_have_their_own_chars():
    tokens = [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in SupportTokenizer()("see E-1102 now", positions=True, chars=True)
    ]
    assert tokens == [
        ("see", 0, 0, 3),
        ("E-1102", 1, 4, 10),
        ("E", 1, 4, 5),
        ("1102", 1, 6, 10),
        ("now", 2, 11, 14),
    ]


def test_tokenizer_chars_cover_the_apostrophe_word():
    tokens = [(t.text, t.startchar, t.endchar) for t in SupportTokenizer()("it won't", chars=True)]
    assert tokens == [("it", 0, 2), ("wont", 3, 8)]


def test_tokenizer_honours_start_pos_and_start_char():
    tokens = [
        (t.text, t.pos, t.startchar)
        for t in SupportTokenizer()("a b", positions=True, chars=True, start_pos=5, start_char=10)
    ]
    assert tokens == [("a", 5, 10), ("b", 6, 12)]


def test_tokenizer_without_tokenize_yields_the_whole_value():
    assert texts("Wi-Fi drops", tokenize=False) == ["Wi-Fi drops"]


def test_tokenizer_passes_mode_to_tokens():
    assert [t.mode for t in SupportTokenizer()("vpn", mode="query")] == ["query"]


def test_tokenizers_compare_equal():
    assert SupportTokenizer() == SupportTokenizer()


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(exclude_categories=()),
            st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
            st.sampled_from("'-.@#+ "),
        )
    )
)
def test_tokenizer_never_raises_and_yields_nonempty_strings(value):
    for token in SupportTokenizer()(value, positions=True, chars=True):
        assert isinstance(token.text, str)
        assert token.text != ""
        assert 0 <= token.startchar < token.endchar <= len(value)
