"""One analysis for indexing, queries and highlights (issue #15): what it makes of text, and that every use agrees."""

import json
import pickle
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.analysis import STOP_WORDS, Filter, LowercaseFilter, StemFilter, StopFilter, Token, Tokenizer

from analyzers.accents import fold_accents
from analyzers.analyzer import PipelineAnalyzer, text_analyzer, words_analyzer
from analyzers.pipeline import PIPELINES, text_pipeline
from analyzers.spelling import us_spelling
from analyzers.tokenizer import CHUNK_PATTERN, split_chunk
from engine.plan import index_terms, typed_words
from engine.snippets import matched_spans
from index.build import rebuild
from index.schema import catch_all_text
from indexer.context import open_knowledge_base
from store.records import validate_record

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"
SAMPLE_RECORDS = [validate_record(json.loads(line)) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def terms(name, value):
    return [token.text for token in PipelineAnalyzer(name)(value)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rowter wont conect", ["rowter", "wont", "conect"]),
        ("Outlook won't open", ["outlook", "wont", "open"]),
        ("colour printer licence", ["color", "printer", "licens"]),
        ("color printers license", ["color", "printer", "licens"]),
        ("organised cancelled", ["organiz", "cancel"]),
        ("Café résumé", ["cafe", "resum"]),
        ("the E-1102 error", ["e-1102", "e", "1102", "error"]),
        ("Wi-Fi on my PC", ["wi-fi", "wifi", "wi", "fi", "my", "pc"]),
        ("macOS iOS 17.2", ["maco", "io", "17.2", "17", "2"]),
        ("mail bob@example.com", ["mail", "bob@example.com", "bob", "exampl", "com"]),
        ("programme disc tyre", ["programm", "disc", "tyre"]),
        ("", []),
    ],
    ids=[
        "typos-untouched",
        "apostrophe",
        "uk-spellings",
        "us-spellings-same-terms",
        "uk-ise-and-ll",
        "accents",
        "stop-word-out-single-letter-part-kept",
        "short-words-kept",
        "version",
        "email",
        "sense-dependent-kept",
        "empty",
    ],
)
def test_the_text_field_gets_normalized_stems(value, expected):
    assert terms("text", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("The colour printers won't print", ["color", "printers", "wont", "print"]),
        ("blutooth headset", ["blutooth", "headset"]),
        ("HDMI 0x80070005 P1102w", ["hdmi", "0x80070005", "p1102w"]),
        ("c++ C# bob@example.com", ["c++", "c#", "bob@example.com", "bob", "example", "com"]),
    ],
    ids=["not-stemmed", "typo-kept", "codes", "languages-and-email"],
)
def test_the_words_field_gets_normalized_whole_words(value, expected):
    assert terms("words", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("The Colour printers", ["the", "colour", "printers"]),
        ("Café won't E-1102", ["cafe", "wont", "e-1102", "e", "1102"]),
    ],
    ids=["keeps-stop-words-and-uk-spelling", "folds-accents-and-splits-codes"],
)
def test_query_words_as_typed_keep_their_spelling(value, expected):
    assert terms("surface", value) == expected


def test_positions_and_characters_for_highlighting():
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


def test_start_position_and_character_are_added():
    analyzed = words_analyzer()("vpn wifi", positions=True, chars=True, start_pos=5, start_char=10)
    assert [(t.text, t.pos, t.startchar) for t in analyzed] == [("vpn", 5, 10), ("wifi", 6, 14)]


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_query_mode_analyses_as_index_mode(name):
    analyzer = PipelineAnalyzer(name)
    assert terms(name, "colour rowter E-1102") == [t.text for t in analyzer("colour rowter E-1102", mode="query")]


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_an_analyzer_pickles_as_its_name_and_compares_by_it(name):
    analyzer = PipelineAnalyzer(name)
    data = pickle.dumps(analyzer)
    assert pickle.loads(data) == analyzer
    assert len(data) < 200
    assert [analyzer == PipelineAnalyzer(other) for other in sorted(PIPELINES)] == [
        other == name for other in sorted(PIPELINES)
    ]


def test_an_unknown_analysis_is_refused_by_name():
    with pytest.raises(ValueError) as error:
        PipelineAnalyzer("metaphone")
    assert str(error.value) == "unknown analysis 'metaphone'; use one of surface, text, words"


def test_whole_terms_leave_out_the_parts_of_a_compound():
    assert list(text_pipeline().whole_terms("the E-1102 error on Wi-Fi")) == ["e-1102", "error", "wi-fi"]


# An independent reference: Whoosh's own stock filters around this package's word-level functions.


class _Pieces(Tokenizer):
    def __call__(self, value, **kwargs):
        token = Token(**kwargs)
        for match in CHUNK_PATTERN.finditer(value):
            for piece, _, _ in split_chunk(match.group(0)):
                token.text, token.stopped, token.boost = piece, False, 1.0
                yield token


class _Each(Filter):
    def __init__(self, function):
        self.function = function

    def __call__(self, tokens):
        for token in tokens:
            token.text = self.function(token.text)
            yield token


def _composed(name):
    chain = _Pieces() | LowercaseFilter() | _Each(fold_accents)
    if name == "surface":
        return chain
    chain = chain | _Each(us_spelling) | StopFilter(stoplist=STOP_WORDS, minsize=1, renumber=False)
    return chain | StemFilter() if name == "text" else chain


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_every_sample_call_is_analysed_as_whooshs_stock_filters_would(name):
    for record in SAMPLE_RECORDS:
        value = catch_all_text(record)
        assert terms(name, value) == [t.text for t in _composed(name)(value)], record["id"]


_PIECES = [*"abcdeéfoprstu ECX0189-.@'’+#\u0301", " colour ", " the ", " won't ", " e-1102 ", " c++ "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join), st.sampled_from(sorted(PIPELINES)))
def test_any_support_text_is_analysed_as_whooshs_stock_filters_would(value, name):
    assert terms(name, value) == [t.text for t in _composed(name)(value)]


_SPACES = ["\t", "\n", "\xa0", "\u2028", "\u3000", "\x1c"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES + _SPACES), max_size=40).map("".join), st.sampled_from(sorted(PIPELINES)))
def test_the_terms_the_index_counts_are_the_analysed_words_whatever_spaces_part_them(value, name):
    """The writer counts ``index_terms``, read a piece between spaces at a time; highlights read ``words``."""
    analyzer = PipelineAnalyzer(name)
    assert list(analyzer.index_terms(value)) == [token.text for token in analyzer(value)]


ANY_CHARACTER = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.sampled_from("'-.@#+ "),
)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=ANY_CHARACTER), st.sampled_from(sorted(PIPELINES)), st.sampled_from(["index", "query"]))
def test_analysis_never_raises_on_any_text(value, name, mode):
    tokens = [t.text for t in PipelineAnalyzer(name)(value, positions=True, chars=True, mode=mode)]
    assert [type(text) for text in tokens] == [str] * len(tokens)


# Every use of the analysis agrees, on the sample knowledge base built as the product builds it.


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("analysis")
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    kb.store.upsert(SAMPLE_RECORDS)
    rebuild(kb.store, kb.home)
    yield kb.home.open_index()
    kb.close()


def _indexed_terms(index):
    """Each call's ``text`` terms and how often, read back from the index's postings."""
    per_call = {}
    with index.reader() as reader:
        ids = {docnum: fields["id"] for docnum, fields in reader.iter_docs()}
        for term in reader.lexicon("text"):
            postings = reader.postings("text", term)
            while postings.is_active():
                per_call.setdefault(ids[postings.id()], Counter())[term.decode()] = int(postings.weight())
                postings.next()
    return per_call


def test_the_index_holds_what_the_analysis_makes_of_each_call(sample_index):
    indexed = _indexed_terms(sample_index)
    for record in SAMPLE_RECORDS:
        assert indexed[record["id"]] == Counter(text_pipeline().terms(catch_all_text(record))), record["id"]


def test_highlights_mark_exactly_the_indexed_words_and_typed_words_find_them(sample_index):
    indexed = _indexed_terms(sample_index)
    for record in SAMPLE_RECORDS:
        held = set(indexed[record["id"]])
        for text in (record["title"], record["problem"], record["resolution"]):
            marked = {char for start, end, _ in matched_spans(text, held) for char in range(start, end)}
            words = {char for word in text_pipeline().words(text) for char in range(word.start, word.end)}
            assert marked == words, record["id"]
            typed = {term for word in typed_words(text, 10_000) for term in index_terms(word)}
            assert typed <= held, record["id"]


def test_a_highlight_marks_the_analysis_words_of_the_matched_terms_and_no_others():
    texts = [
        "Wi-Fi drops; the e-mail to help@example.com fails with 0x80070005 on Outlook 2016 (colour printer)",
        "The printers' spooler re-started, printer's queue is cleared: printing again",
        *(record["problem"] for record in SAMPLE_RECORDS[:40]),
    ]
    for text in texts:
        words = list(text_pipeline().words(text))
        for chosen in ({word.text for word in words[::3]}, {word.text for word in words[1:2]}):
            expected, end = [], -1
            for word in words:
                if word.text in chosen and word.end > word.start and word.start >= end:
                    expected.append((word.start, word.end, word.text))
                    end = word.end
            assert list(matched_spans(text, chosen)) == expected, text


def test_an_index_built_with_another_analysis_is_rebuilt_from_the_store_at_start(data_folder, runner, caplog):
    from conftest import TEST_DATA, settings_for
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import TEXT

    from app import create_app
    from index.generations import IndexHome
    from index.schema import call_schema, matches_call_schema

    assert runner("import", TEST_DATA / "calls.json").exit_code == 0
    home = IndexHome(data_folder)
    folder = home.new_generation()
    older = call_schema()
    older.remove("text")
    older.add("text", TEXT(analyzer=StandardAnalyzer(), phrase=False))
    from whoosh import index as whoosh_index

    whoosh_index.create_in(str(folder), older)
    home.swap_to(folder)
    assert matches_call_schema(home.open_index().schema) is False
    client = create_app(settings_for(data_folder)).test_client()
    assert matches_call_schema(home.open_index().schema) is True
    assert "rebuilding it from the store" in caplog.text
    assert client.get("/api/v1/search?q=printer").get_json()["total"] > 0


def test_an_index_of_todays_analysis_is_kept_at_start(indexed_app, data_folder):
    from conftest import settings_for

    from app import create_app
    from index.generations import IndexHome

    generation = IndexHome(data_folder).current_name()
    create_app(settings_for(data_folder))
    assert IndexHome(data_folder).current_name() == generation
