import json
import pickle

import pytest
from conftest import REAL_DATA, TEST_DATA, needs_real_data
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.analysis import CompositeAnalyzer
from whoosh.fields import TEXT
from whoosh.formats import Frequency
from whoosh.qparser import QueryParser

from analyzers.chains import metaphone_analyzer, text_analyzer, words_analyzer
from analyzers.fused import FusedAnalyzer, WordPipeline, _token_stream, word_pipeline
from bench import corpora
from index.schema import call_schema, catch_all_text, index_document
from store.records import content_hash, validate_record

FUSED = {"text": text_analyzer, "words": words_analyzer}
# What Whoosh's Frequency format passes when it indexes a TEXT field.
INDEXING_CALL = {"mode": "index", "boosts": True}


def composed(analyzer):
    """The same chain as ``analyzer`` run as Whoosh composes it: what the schema held before fusing."""
    return CompositeAnalyzer(*analyzer.items)


def texts(analyzer, value, **kwargs):
    return [token.text for token in analyzer(value, **kwargs)]


def takes_one_loop(stream):
    return stream.gi_code is _token_stream.__code__


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("text", "The colour printers won't print", ["color", "printer", "wont", "print"]),
        ("words", "The colour printers won't print", ["color", "printers", "wont", "print"]),
        ("text", "the E-1102 error on Wi-Fi", ["e-1102", "e", "1102", "error", "wi-fi", "wifi", "wi", "fi"]),
        (
            "words",
            "Café résumé c++ C# bob@example.com",
            ["cafe", "resume", "c++", "c#", "bob@example.com", "bob", "example", "com"],
        ),
        ("text", "", []),
        ("words", "the a of", []),
    ],
    ids=["text-stems", "words-whole", "compounds-and-parts", "accents-languages-email", "empty", "only-stop-words"],
)
def test_fused_analyzer_indexes_the_composed_chains_terms(name, value, expected):
    analyzer = FUSED[name]()
    stream = analyzer(value, **INDEXING_CALL)
    assert takes_one_loop(stream) is True
    assert [token.text for token in stream] == expected
    assert texts(composed(analyzer), value, **INDEXING_CALL) == expected


@pytest.mark.parametrize(
    "kwargs", [INDEXING_CALL, {"mode": "index"}], ids=["frequency-format-call", "existence-format-call"]
)
def test_fused_analyzer_takes_one_loop_for_whooshs_indexing_calls(kwargs):
    assert takes_one_loop(text_analyzer()("printer colour", **kwargs)) is True


@needs_real_data
@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_analyzer_equals_composed_chain_on_every_real_record(name):
    analyzer = FUSED[name]()
    chain = composed(analyzer)
    differing = [
        call["id"]
        for call in corpora.all_calls(REAL_DATA)
        if texts(analyzer, catch_all_text(call), **INDEXING_CALL) != texts(chain, catch_all_text(call), **INDEXING_CALL)
    ]
    assert differing == []


TRICKY_WORDS = [
    "Café", "RÉSUMÉ", "naïve", "ﬁle", "straße", "İstanbul", "e\u0301cole", "\u0301",
    "won't", "user’s", "Organisation's", "don\u02bct", "'quoted'",
    "E-1102", "e-1102", "0x80070005", "P1102w", "17.2", "v2.0.1-rc1", "Wi-Fi", "e-mail", "re-install",
    "bob@example.com", "Mail.Example.COM", "server01.contoso.com", "a.b", "a-", "-b",
    "c++", "C#", "f#", "x++y", "c++11",
    "colour", "Colour", "organised", "licence", "cancelled", "centre", "programme", "catalogue",
    "the", "The", "a", "A", "I", "x", "of", "and", "is", "it", "on", "to",
    "printers", "running", "connection", "rebooted",
]  # fmt: skip
SEPARATORS = [" ", "  ", "\n", ", ", ". ", "-", ".", "'", "@", "/", "(", ")", ":", "\t", "—"]
SUPPORT_TEXT = st.lists(
    st.one_of(st.sampled_from(TRICKY_WORDS), st.sampled_from(SEPARATORS), st.text(max_size=12)), max_size=40
).map("".join)


@settings(max_examples=400, deadline=None)
@given(SUPPORT_TEXT, st.sampled_from(sorted(FUSED)))
def test_fused_analyzer_equals_composed_chain_on_any_support_text(value, name):
    analyzer = FUSED[name]()
    expected = texts(composed(analyzer), value, **INDEXING_CALL)
    first, remembered = (texts(analyzer, value, **INDEXING_CALL) for _ in range(2))
    assert (first, remembered) == (expected, expected)


@pytest.mark.parametrize("first", ["text", "words"])
def test_second_field_of_a_document_gets_its_own_terms_whichever_field_comes_first(first):
    value = f"Colour printers won't print {first} order E-1102"
    second = "words" if first == "text" else "text"
    results = {name: texts(FUSED[name](), value, **INDEXING_CALL) for name in (first, second)}
    assert results == {name: texts(composed(FUSED[name]()), value, **INDEXING_CALL) for name in FUSED}


def test_text_and_words_share_one_word_pipeline():
    configurations = {name: FUSED[name]().items[4] for name in FUSED}
    pipelines = {name: word_pipeline(stop.stops, stop.min, stop.max) for name, stop in configurations.items()}
    assert pipelines["text"] is pipelines["words"]


def test_word_pipeline_remembers_a_recent_text_and_still_answers_after_forgetting_it():
    pipeline = WordPipeline(frozenset({"the"}), 1, None)
    first = pipeline.words("the colour printer")
    assert pipeline.words("the colour printer") is first
    for number in range(50):
        pipeline.words(f"filler {number}")
    assert pipeline.words("the colour printer") == ("color", "printer")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"positions": True, "mode": "index"},
        {"chars": True, "mode": "index"},
        {"positions": True, "chars": True, "mode": "index", "boosts": True},
        {"keeporiginal": True, "mode": "index"},
        {"removestops": False, "mode": "index"},
        {"tokenize": False, "mode": "index"},
        {"no_morph": True, "mode": "index"},
        {"mode": "query"},
        {"positions": True, "mode": "query"},
        {},
    ],
    ids=[
        "positions",
        "chars",
        "positions-and-chars",
        "keeporiginal",
        "stops-kept",
        "no-tokenizing",
        "no-morph",
        "query",
        "query-positions",
        "no-mode",
    ],
)
@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_analyzer_runs_composed_chain_for_any_other_call(name, kwargs):
    value = "The Café E-1102 won't print colour"
    analyzer = FUSED[name]()
    stream = analyzer(value, **kwargs)
    fields = ("text", "pos", "startchar", "endchar", "stopped", "original")

    def described(tokens):
        return [tuple(getattr(token, field, None) for field in fields) for token in tokens]

    assert takes_one_loop(stream) is False
    assert described(stream) == described(composed(analyzer)(value, **kwargs))


@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_analyzer_pickles_as_its_items_and_keeps_its_one_loop(name):
    analyzer = FUSED[name]()
    data = pickle.dumps(analyzer)
    restored = pickle.loads(data)
    assert restored == analyzer
    assert takes_one_loop(restored("colour", **INDEXING_CALL)) is True
    assert len(data) < len(pickle.dumps(composed(analyzer))) + 100


@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_analyzer_equals_composed_chain_of_the_same_items_both_ways(name):
    analyzer, chain = FUSED[name](), composed(FUSED[name]())
    assert (analyzer == chain, chain == analyzer, analyzer != chain, chain != analyzer) == (True, True, False, False)


def test_fused_analyzers_differ_from_each_other_and_from_other_chains():
    assert (text_analyzer() == words_analyzer(), words_analyzer() == metaphone_analyzer()) == (False, False)
    assert (text_analyzer() == None, words_analyzer() == "words") == (False, False)  # noqa: E711


def test_other_chains_always_run_composed():
    unfused = FusedAnalyzer(metaphone_analyzer())
    stream = unfused("rowter colour", **INDEXING_CALL)
    assert takes_one_loop(stream) is False
    assert [token.text for token in stream] == ["RTR", "KLR"]


def test_frequency_format_counts_the_same_terms_through_either_path():
    value = "Printer offline. The printer won't print; printers: E-1102, e-1102."
    for name in FUSED:
        field = TEXT(analyzer=FUSED[name](), phrase=False)
        assert isinstance(field.format, Frequency)
        fused_counts = sorted(field.format.word_values(value, field.analyzer, mode="index"))
        composed_counts = sorted(field.format.word_values(value, composed(field.analyzer), mode="index"))
        assert fused_counts == composed_counts


def schema_before_fusing():
    """The schema as indexes built before the fused analyzers pickled it: plain composed chains."""
    schema = call_schema()
    for name in FUSED:
        schema[name].analyzer = composed(schema[name].analyzer)
    return schema


def build_index(folder, schema, records):
    ix = whoosh_index.create_in(str(folder), schema)
    with ix.writer() as writer:
        for record in records:
            writer.add_document(**index_document(record, content_hash(record)))
    return ix


def term_statistics(ix):
    with ix.reader() as reader:
        return [
            (field, term, reader.doc_frequency(field, term), reader.frequency(field, term))
            for field, term in reader.all_terms()
            if field in FUSED
        ]


@pytest.fixture(scope="module")
def records():
    return [validate_record(raw) for raw in json.loads((TEST_DATA / "calls.json").read_text(encoding="utf-8"))]


def test_index_built_with_fused_analyzers_has_the_terms_of_one_built_before(tmp_path, records):
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    before = build_index(tmp_path / "before", schema_before_fusing(), records)
    after = build_index(tmp_path / "after", call_schema(), records)
    assert term_statistics(after) == term_statistics(before)
    assert type(whoosh_index.open_dir(str(tmp_path / "after")).schema["text"].analyzer) is FusedAnalyzer


def test_index_built_before_fusing_still_opens_searches_and_takes_updates(tmp_path, records):
    build_index(tmp_path, schema_before_fusing(), records)
    ix = whoosh_index.open_dir(str(tmp_path))
    assert (type(ix.schema["text"].analyzer), ix.schema["text"].analyzer == text_analyzer()) == (
        CompositeAnalyzer,
        True,
    )
    added = dict(records[0], id="CALL-NEW", title="Colour laser shows E-1102")
    with ix.writer() as writer:
        writer.add_document(**index_document(added, content_hash(added)))
    with ix.searcher() as searcher:
        query = QueryParser("text", ix.schema).parse("color e-1102")
        assert [hit["id"] for hit in searcher.search(query)] == ["CALL-NEW"]
