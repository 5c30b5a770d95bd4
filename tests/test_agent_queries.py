"""The hand-written agent queries: the shipped file, the content-word rule and the checker."""

from collections import Counter

import pytest

from bench import agent_queries
from bench.agent_queries import (
    DEFAULT_PATH,
    PERTURBED_KINDS,
    AgentQuery,
    AgentQueryError,
    check_queries,
    content_words,
    load_agent_queries,
    load_records_by_id,
    main,
)
from bench.data import DEFAULT_DATA

HEADER = "qid\tkind\ttext\tclean_text\trelevant_ids\tsource\n"

TINY_RECORDS = {
    "MS-outlook-prompts": {"id": "MS-outlook-prompts", "title": "Outlook prompts for password"},
    "SF-T001": {"id": "SF-T001", "title": "How do I delete my Facebook account?"},
}


def query(qid="AQ-0001", kind="clean", text="login box keeps popping up", clean_text=None, ids=("MS-outlook-prompts",)):
    """A query for the checker tests; ``clean_text`` defaults to ``text``."""
    source = "stackfaq" if ids and ids[0].startswith("SF-") else "ms"
    return AgentQuery(qid, kind, text, text if clean_text is None else clean_text, frozenset(ids), source)


@pytest.fixture(scope="module")
def shipped():
    return load_agent_queries()


def test_shipped_file_parses_with_the_required_counts(shipped):
    kind_counts = Counter(item.kind for item in shipped)
    assert len(shipped) >= 300
    assert kind_counts["clean"] >= 140
    assert {kind: kind_counts[kind] >= 40 for kind in PERTURBED_KINDS} == dict.fromkeys(PERTURBED_KINDS, True)
    assert set(kind_counts) == set(agent_queries.KINDS)


def test_shipped_file_is_about_70_percent_microsoft(shipped):
    source_counts = Counter(item.source for item in shipped)
    assert set(source_counts) == {"ms", "stackfaq"}
    assert round(source_counts["ms"] / len(shipped), 1) == 0.7


def test_shipped_queries_carry_ids_and_clean_text(shipped):
    assert [item for item in shipped if not item.relevant_ids or not item.clean_text] == []
    assert [item.qid for item in shipped][:2] == ["AQ-0001", "AQ-0002"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The colours are Printing", {"color", "print"}),
        ("Outlook won't send e-mails", {"outlook", "won", "t", "send", "e", "mail"}),
        ("How do I sync my Favourite folders?", {"how", "do", "i", "my", "sync", "favorit", "folder"}),
        ("Error 0x8004010F when SENDING", {"error", "0x8004010f", "send"}),
        ("licence organisation synchronised", {"licens", "organ", "synchroniz"}),
        ("", set()),
    ],
    ids=["stop-words-and-uk-spelling", "split-on-punctuation", "short-stop-list", "codes-kept", "uk-forms", "empty"],
)
def test_content_words(text, expected):
    assert content_words(text) == expected


def test_check_accepts_a_sound_query():
    assert check_queries([query()], TINY_RECORDS) == []


def test_check_reports_two_shared_title_words():
    problems = check_queries([query(text="outlook asks password again")], TINY_RECORDS)
    assert len(problems) == 1
    assert "shares 2 content words ['outlook', 'password']" in problems[0]


def test_check_compares_the_clean_text_with_the_title():
    misspelt = query(kind="typo", text="outlok asks pasword again", clean_text="outlook asks password again")
    problems = check_queries([misspelt], TINY_RECORDS)
    assert len(problems) == 1
    assert "shares 2 content words" in problems[0]


def test_check_counts_short_stop_list_words_like_my():
    problems = check_queries([query(text="remove my facebook", ids=("SF-T001",))], TINY_RECORDS)
    assert len(problems) == 1
    assert "['facebook', 'my']" in problems[0]


def test_check_reports_an_unknown_record_id():
    problems = check_queries([query(ids=("MS-outlook-prompts", "MS-no-such-article"))], TINY_RECORDS)
    assert problems == ["AQ-0001 ('login box keeps popping up'): unknown record id MS-no-such-article"]


@pytest.mark.parametrize(
    ("bad_query", "expected_fragment"),
    [
        (query(text="outlook"), "text has 1 words, expected 2 to 6"),
        (query(text="one two three four five six seven"), "text has 7 words"),
        (query(kind="typo", text="login box keps popping", clean_text=""), "empty clean_text"),
        (query(text="login box keps popping", clean_text="login box keeps popping"), "clean query's text must equal"),
        (query(kind="british", text="login box keeps popping"), "british query's text must differ"),
        (query(kind="slang"), "unknown kind 'slang'"),
        (query(ids=()), "no relevant ids"),
    ],
    ids=["one-word", "seven-words", "empty-clean-text", "clean-differs", "perturbed-equal", "unknown-kind", "no-ids"],
)
def test_check_reports_each_broken_rule(bad_query, expected_fragment):
    problems = check_queries([bad_query], TINY_RECORDS)
    assert [problem for problem in problems if expected_fragment in problem] != []


def test_check_reports_duplicates_and_overused_records():
    queries = [
        query("AQ-0001", text="login box keeps popping"),
        query("AQ-0001", text="credentials window again"),
        query("AQ-0003", text="Login box keeps popping"),
    ]
    problems = check_queries(queries, TINY_RECORDS)
    assert "duplicate qid AQ-0001 (2 times)" in problems
    assert "duplicate text 'login box keeps popping' (2 times)" in problems
    assert "record MS-outlook-prompts is relevant to 3 queries, at most 2 allowed" in problems


def test_loader_rejects_a_wrong_header(tmp_path):
    path = tmp_path / "queries.tsv"
    path.write_text("qid\ttext\n", encoding="utf-8")
    with pytest.raises(AgentQueryError, match="header"):
        load_agent_queries(path)


def test_loader_rejects_a_short_row(tmp_path):
    path = tmp_path / "queries.tsv"
    path.write_text(HEADER + "AQ-0001\tclean\tlogin box\n", encoding="utf-8")
    with pytest.raises(AgentQueryError, match="line 2: expected 6 fields, got 3"):
        load_agent_queries(path)


def test_loader_splits_relevant_ids(tmp_path):
    path = tmp_path / "queries.tsv"
    path.write_text(HEADER + "AQ-0001\tclean\tlogin box\tlogin box\tSF-T001 SF-T002\tstackfaq\n", encoding="utf-8")
    assert load_agent_queries(path) == [
        AgentQuery("AQ-0001", "clean", "login box", "login box", frozenset({"SF-T001", "SF-T002"}), "stackfaq")
    ]


def test_main_without_data_reports_the_missing_file(tmp_path, capsys):
    assert main(["--check", "--data", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err


needs_shared_data = pytest.mark.skipif(
    not DEFAULT_DATA.is_dir(), reason=f"shared data folder {DEFAULT_DATA} is missing"
)


@needs_shared_data
def test_shipped_queries_pass_the_check_against_the_real_records(shipped):
    assert check_queries(shipped, load_records_by_id()) == []


@needs_shared_data
def test_main_check_passes_and_prints_the_counts(capsys):
    assert main(["--check"]) == 0
    printed = capsys.readouterr().out
    assert f"{len(load_agent_queries(DEFAULT_PATH))} queries" in printed
    assert "0 problems" in printed
