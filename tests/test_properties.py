"""Whatever an agent types, the query parser, the search and the API answer without failing (issue #6).

Any Unicode (lone surrogates and control characters included), empty strings, 10,000
characters, only punctuation or stop words, and Whoosh query syntax typed as text.
The analyzers themselves are fuzzed in tests/test_analyzers_*.py.
"""

from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from conftest import TEST_DATA, settings_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.wrappers import Request

from analyzers.phonetic import PhoneticLookup
from analyzers.spelling import us_spelling
from analyzers.typos import TypoCorrector
from app import create_app
from engine.plan import MAX_QUERY_WORDS, plan_query
from engine.results import InvalidSearchError
from indexer.context import open_knowledge_base
from indexer.importer import import_file

ERROR_KEYS = {"ok", "error", "errors", "status"}
RESULT_KEYS = {"query", "total", "took_ms", "did_you_mean", "timed_out", "results"}
WHOOSH_SYNTAX = (
    "AND",
    "OR",
    "NOT",
    "*",
    "?",
    "~2",
    "title:printer",
    "id:T-001",
    '"printer offline"',
    "(",
    ")",
    "[a TO b]",
    "{a TO z}",
    "^2",
    "+",
    "-",
    "\\",
    "/",
    ":",
    "''",
    "&&",
    "||",
)
STOP_WORDS = ("the", "a", "and", "of", "to", "is", "it", "on", "for", "with")
WORDS = ("printer", "offline", "outlok", "pasword", "colour", "vpn", "E-1102", "wi-fi", "rowter", "conect")

ANY_CHARACTER = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.characters(max_codepoint=0x9F, categories=("Cc",)),
)
QUERIES = st.one_of(
    st.text(alphabet=ANY_CHARACTER),
    st.lists(st.sampled_from(WHOOSH_SYNTAX + STOP_WORDS + WORDS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(WHOOSH_SYNTAX + WORDS), max_size=12).map("".join),
    st.text(alphabet=st.characters(categories=("P", "S", "Z")), min_size=1),
    st.text(alphabet=ANY_CHARACTER, min_size=2_000, max_size=10_000),
)
HOSTILE = [
    "",
    " ",
    "\x00",
    "\ud800",
    "x" * 10_000,
    "printer " * 1_250,
    "the of and",
    "!!!???...",
    "AND OR NOT",
    "title:printer AND NOT offline~2",
    '"unclosed quote',
    "[a TO b] {c TO d} (",
    "*?*?",
    "\u202e\u200b\ufeff",
    '<script>alert("kb")</script>',
    '"><img src=x onerror=alert(1)>',
    "AT&T <b>printer</b> 'offline' & \"quoted\"",
]
# Where the agents' page echoes the query: the search box, the results list, and the "no match" line.
SEARCH_BOX = 'name="q" type="search" value="'
RESULTS_LIST = 'aria-label="Search results" data-query="'
NO_MATCH = "No past call matches “"
MARKUP = set('<>&"')
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def with_examples(*more):
    """Every hand-picked hostile query as an explicit example too (``more``: the test's other arguments)."""

    def decorate(test):
        for value in HOSTILE:
            test = example(value, *more)(test)
        return test

    return decorate


@pytest.fixture(scope="module")
def kb_app(tmp_path_factory):
    """An app over a small real index built from tests/data/calls.json (shared by every example)."""
    folder = tmp_path_factory.mktemp("properties") / "var"
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    import_file(kb.store, TEST_DATA / "calls.json")
    kb.close()
    return create_app(settings_for(folder, KB_RATE_LIMIT=""))


@pytest.fixture(scope="module")
def kb_client(kb_app):
    """A test client of ``kb_app``."""
    return kb_app.test_client()


def percent_encoded(text):
    """The query as a browser would send it; lone surrogates become bytes that are not UTF-8."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


class TagCollector(HTMLParser):
    """Collects every start and end tag of an HTML fragment, with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(attrs)))

    def handle_endtag(self, tag):
        self.tags.append(("/" + tag, ()))


def as_the_server_reads(text):
    """The query text the page receives for ``text`` (werkzeug leaves bytes that are not UTF-8 percent-encoded)."""
    return Request.from_values(query_string=f"q={percent_encoded(text)}").args["q"]


def attribute_value(html, opening):
    """The raw HTML between ``opening`` (which ends with ``="``) and the next double quote."""
    start = html.index(opening) + len(opening)
    return html[start : html.index('"', start)]


def tags_in(fragment):
    """The tags an HTML fragment contains."""
    parser = TagCollector()
    parser.feed(fragment)
    parser.close()
    return parser.tags


@FUZZ
@given(QUERIES, st.booleans())
@with_examples(False)
def test_plan_query_never_raises_and_keeps_at_most_32_words(text, everything_indexed):
    plan = plan_query(text, lambda term: everything_indexed, None, {"printer": ["printers"]})
    assert len(plan.words) <= MAX_QUERY_WORDS
    assert isinstance(plan.text, str)
    assert plan.text.encode("utf-8").decode("utf-8") == plan.text
    assert [type(term) for w in plan.words for a in w.alternatives for term in a.terms] == [
        str for w in plan.words for a in w.alternatives for _ in a.terms
    ]


@FUZZ
@given(QUERIES)
@with_examples()
def test_search_service_answers_every_query_or_names_q(kb_app, text):
    service = kb_app.extensions["kb"].search
    try:
        result = service.search(text, limit=5)
    except InvalidSearchError as error:
        assert (error.field, text.strip()) == ("q", "")
        return
    assert len(result.hits) <= 5
    assert result.total >= len(result.hits)
    for hit in result.hits:
        assert {tag for tag, _attrs in tags_in(hit["snippet"] + hit["title_html"])} <= {"mark", "/mark"}


@FUZZ
@given(QUERIES)
@with_examples()
def test_search_api_answers_200_or_a_400_in_the_error_shape(kb_client, text):
    response = kb_client.get(f"/api/v1/search?q={percent_encoded(text)}&limit=5")
    assert response.content_type == "application/json"
    body = response.get_json()
    if response.status_code == 400:
        assert (set(body), body["ok"], body["status"], body["errors"][0]["field"]) == (ERROR_KEYS, False, 400, "q")
    else:
        assert response.status_code == 200
        assert RESULT_KEYS <= set(body)
        assert len(body["results"]) <= 5


@FUZZ
@given(QUERIES)
@with_examples()
def test_page_renders_every_query_escaped(kb_client, text):
    response = kb_client.get(f"/?q={percent_encoded(text)}")
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    html, typed = response.get_data(as_text=True), as_the_server_reads(text)
    escaped = str(escape(typed))
    assert attribute_value(html, SEARCH_BOX) == escaped
    if RESULTS_LIST in html:
        assert attribute_value(html, RESULTS_LIST) == escaped
    if NO_MATCH in html:
        assert f"{NO_MATCH}{escaped}”." in html
    # Short runs of punctuation ('">') occur in any page's own markup; a query with three letters or digits does not.
    if MARKUP & set(typed) and sum(character.isalnum() for character in typed) >= 3:
        assert typed not in html.replace(escaped, "").replace("<mark>", "").replace("</mark>", "")


@FUZZ
@given(st.text(alphabet=ANY_CHARACTER))
@example("")
@example("colour" * 2_000)
def test_us_spelling_never_raises_and_returns_text(word):
    assert isinstance(us_spelling(word), str)


@pytest.fixture(scope="module")
def corrector():
    """A typo corrector over a few support words."""
    return TypoCorrector({word: 3 for word in ("printer", "offline", "outlook", "password", "router", "connect")})


@pytest.fixture(scope="module")
def lookup():
    """A sound-alike lookup over a few support words."""
    return PhoneticLookup(["printer", "offline", "outlook", "password", "router", "connect"])


@FUZZ
@given(st.text(alphabet=ANY_CHARACTER, max_size=200), st.integers(min_value=0, max_value=5))
@example("", 3)
@example("x" * 10_000, 3)
def test_typo_corrector_and_sound_alikes_never_raise(corrector, lookup, word, limit):
    corrections = corrector.corrections(word, limit=limit)
    assert len(corrections) <= limit
    assert [type(c) for c in corrections] == [str] * len(corrections)
    assert isinstance(corrector.is_known(word), bool)
    assert len(lookup.candidates(word, limit=limit)) <= limit
