"""The benchmark's corpora, judged queries and query perturbations.

The loaders and perturbations are checked on the miniature data folder of tests/bench_data.py; the documented
sizes and rules of the real data sets, where the data folder is beside the clone (docs/data.md).
"""

import json
from datetime import datetime
from pathlib import Path

import pytest
from bench_data import DLP_ARTICLE, HYBRID_ARTICLE, write_mini_data
from conftest import REAL_DATA, needs_real_data

from bench import corpora
from bench.corpora import (
    BenchQuery,
    all_calls,
    all_queries,
    gitbugs_calls,
    gitbugs_queries,
    gitbugs_timestamp,
    ms_error_queries,
    ms_kb_calls,
    ms_slug,
    ms_timestamp,
    split_queries,
    stackfaq_calls,
    stackfaq_product,
    stackfaq_queries,
    write_jsonl,
)
from bench.perturb import britishise, inject_typos, load_misspellings, load_us_to_uk

SAMPLE_CALLS = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"
RECORD_KEYS = {
    "id",
    "title",
    "problem",
    "resolution",
    "product",
    "category",
    "tags",
    "created_at",
    "resolved",
}
# Made-up judged queries for the split: the split looks at nothing but the qid.
SPLIT_QUERIES = [BenchQuery(f"Q{n:04d}", "text", frozenset({f"C{n}"}), "made-up") for n in range(1000)]


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """The miniature data folder."""
    return write_mini_data(tmp_path_factory.mktemp("bench-data"))


@pytest.fixture(scope="module")
def calls():
    return all_calls(REAL_DATA)


@pytest.fixture(scope="module")
def call_ids(calls):
    return {call["id"] for call in calls}


@pytest.fixture(scope="module")
def queries():
    return {
        "stackfaq": stackfaq_queries(REAL_DATA),
        "gitbugs": gitbugs_queries(REAL_DATA),
        "ms_errors": ms_error_queries(REAL_DATA),
    }


@pytest.fixture(scope="module")
def misspellings(mini):
    return load_misspellings(mini)


@needs_real_data
def test_each_source_has_its_documented_count(calls):
    counts = {prefix: sum(call["id"].startswith(prefix) for call in calls) for prefix in "SGM"}
    assert counts == {"S": 125, "G": 3579, "M": 2426}
    assert len(calls) == 6130


@needs_real_data
def test_call_ids_are_unique_across_sources(calls):
    assert len({call["id"] for call in calls}) == len(calls)


def broken_records(calls):
    """The ids of records that break the call record rules (README, "Import your own calls")."""
    broken = []
    for call in calls:
        problems = [
            set(call) != RECORD_KEYS,
            not all(isinstance(call[key], str) for key in RECORD_KEYS - {"tags", "resolved"}),
            not all(isinstance(tag, str) for tag in call["tags"]),
            not isinstance(call["resolved"], bool),
            len(call["title"]) > 1000,
            max(len(call[key]) for key in ("problem", "resolution")) > 100_000,
            not (call["title"] or call["problem"]),
            datetime.fromisoformat(call["created_at"]).utcoffset() is None,
        ]
        if any(problems):
            broken.append(call["id"])
    return broken


def test_every_mini_record_follows_the_call_record_rules(mini):
    assert broken_records(all_calls(mini)) == []


@needs_real_data
def test_every_record_follows_the_call_record_rules(calls):
    assert broken_records(calls) == []


def test_stackfaq_record_maps_question_and_answers(mini):
    first, _, unanswered = stackfaq_calls(mini)
    assert (first["id"], first["title"], first["problem"]) == (
        "SF-T000",
        "Strikethrough with GitHub Markdown",
        "Strikethrough with GitHub Markdown",
    )
    assert first["resolution"] == "Use ~~tildes around the words~~.\n\nI just used <del> tags and it worked."
    assert (first["product"], first["category"], first["resolved"]) == ("GitHub", "web apps", True)
    assert (unanswered["product"], unanswered["resolution"], unanswered["resolved"]) == ("Trello", "", False)


@pytest.mark.parametrize(
    ("question", "product"),
    [
        ("Gmail & Google Docs: Paste just the text, not the formatting", "Gmail"),
        ("Facebook detects if you are logged in Gmail", "Facebook"),
        ("How can I backup all of my tweets?", "Twitter"),
        ("Link to specific sheet in Google spreadsheet", "Google Sheets"),
        ("Date of first commit", "Web apps"),
    ],
    ids=["first-of-two", "position-wins", "tweets", "spreadsheet", "no-keyword"],
)
def test_stackfaq_product_names_the_first_app_mentioned(question, product):
    assert stackfaq_product(question) == product


def test_gitbugs_record_keeps_tracker_verdict_and_utc_date(mini):
    by_id = {call["id"]: call for call in gitbugs_calls(mini)}
    report = by_id["GB-hadoop-13404344"]
    assert report["title"] == "JAR in conflict with timestamp check causes AM errors"
    assert (report["resolution"], report["resolved"]) == ("Resolved as Duplicate", True)
    assert (report["product"], report["category"]) == ("Hadoop", "bug report")
    assert report["tags"] == ["priority:Major", "version:3.3.1"]
    assert report["created_at"] == "2021-09-30T17:20:00+00:00"
    assert report["problem"] == "The application master fails\nwhen a localized JAR changed after the check."
    unresolved = by_id["GB-seamonkey-1600000"]
    assert (unresolved["resolution"], unresolved["resolved"], unresolved["product"]) == ("NEW", False, "SeaMonkey")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("30/Sep/21 17:20", "2021-09-30T17:20:00+00:00"),
        ("2020-01-02 17:14:21+00:00", "2020-01-02T17:14:21+00:00"),
    ],
    ids=["jira", "bugzilla"],
)
def test_gitbugs_timestamp_normalises_both_trackers(raw, iso):
    assert gitbugs_timestamp(raw) == iso


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("01/24/2024", "2024-01-24T00:00:00+00:00"),
        ("8/10/2024", "2024-08-10T00:00:00+00:00"),
        (["06/24/2024", "NOCSH"], "2024-06-24T00:00:00+00:00"),
    ],
    ids=["plain", "one-digit-month", "list"],
)
def test_ms_timestamp_reads_every_ms_date_shape(raw, iso):
    assert ms_timestamp(raw) == iso


def test_ms_slug_flattens_paths_and_apostrophes():
    assert ms_slug("Outlook/Client/security/can't-display-dlp-policytip") == (
        "outlook-client-security-can-t-display-dlp-policytip"
    )


def test_ms_record_uses_symptoms_and_resolution_sections(mini):
    by_id = {call["id"]: call for call in ms_kb_calls(mini)}
    article = by_id["MS-exchange-exchangehybrid-administration-cannot-add-and-verify-domain"]
    assert article["title"] == "Can't add and verify a domain in hybrid"
    assert article["problem"].startswith("You have a hybrid deployment")
    assert article["resolution"].startswith("To resolve this issue, follow these steps:")
    assert (article["product"], article["category"]) == ("Exchange/ExchangeHybrid", "Hybrid")
    assert article["tags"] == ["Hybrid", "KB3089230"]


def test_ms_how_to_article_without_sections_answers_with_its_body(mini):
    article = {call["id"]: call for call in ms_kb_calls(mini)}[f"MS-{ms_slug(DLP_ARTICLE)}"]
    assert (article["title"], article["category"], article["tags"]) == (
        "Outlook can't display the DLP policy tip",
        "office",
        [],
    )
    assert (
        article["problem"]
        == article["resolution"]
        == "Check that the policy tip is turned on in the compliance center."
    )
    assert article["created_at"] == "2024-06-24T00:00:00+00:00"


def test_query_sets_judge_the_records_they_name(mini):
    stackfaq, gitbugs, ms_errors = stackfaq_queries(mini), gitbugs_queries(mini), ms_error_queries(mini)
    assert [(q.qid, q.relevant_ids) for q in stackfaq][:1] == [("SFQ-T000_Q00", frozenset({"SF-T000"}))]
    assert gitbugs == [
        BenchQuery(
            qid="GBQ-hadoop-13404344",
            text="JAR in conflict with timestamp check causes AM errors",
            relevant_ids=frozenset({"GB-hadoop-13404000"}),
            source="gitbugs",
            exclude_ids=frozenset({"GB-hadoop-13404344"}),
        ),
        BenchQuery(
            qid="GBQ-seamonkey-1600001",
            text="Cannot receive mail after the upgrade",
            relevant_ids=frozenset({"GB-seamonkey-1600000"}),
            source="gitbugs",
            exclude_ids=frozenset({"GB-seamonkey-1600001"}),
        ),
    ]
    assert [(q.qid, q.relevant_ids) for q in ms_errors] == [
        ("MSQ-E00000", frozenset({f"MS-{ms_slug(HYBRID_ARTICLE)}"}))
    ]
    call_ids = {call["id"] for call in all_calls(mini)}
    assert [q.qid for q in all_queries(mini) if not q.relevant_ids | q.exclude_ids <= call_ids] == []


@needs_real_data
def test_overlong_text_is_cut_at_a_word_boundary(calls):
    longest = max(calls, key=lambda call: len(call["resolution"]))
    assert len(longest["resolution"]) <= 100_000
    assert len(longest["resolution"]) > 99_000
    assert longest["resolution"] == longest["resolution"].rstrip()


@needs_real_data
def test_query_sets_have_their_documented_sizes(queries):
    sizes = {name: len(items) for name, items in queries.items()}
    assert sizes == {"stackfaq": 1249, "gitbugs": 201, "ms_errors": 697}
    pairs = sum(len(query.relevant_ids) for query in queries["gitbugs"])
    assert pairs == 219


@needs_real_data
def test_query_ids_are_unique(queries):
    qids = [query.qid for items in queries.values() for query in items]
    assert len(set(qids)) == len(qids)


@needs_real_data
def test_every_relevant_and_excluded_id_is_a_call(queries, call_ids):
    missing = {
        query.qid
        for items in queries.values()
        for query in items
        if not query.relevant_ids <= call_ids or not query.exclude_ids <= call_ids
    }
    assert missing == set()


@needs_real_data
def test_ms_error_queries_point_at_slugged_article_ids(queries):
    first = queries["ms_errors"][0]
    expected = "MS-" + ms_slug("SkypeforBusiness/SkypeServer/server-sign-in/client-not-start-click-meeting-link")
    assert (first.qid, first.relevant_ids) == ("MSQ-E00000", frozenset({expected}))
    articles = {next(iter(query.relevant_ids)) for query in queries["ms_errors"]}
    assert len(articles) == 518


@needs_real_data
def test_gitbugs_query_excludes_itself_and_never_judges_itself(queries):
    first = queries["gitbugs"][0]
    assert first == BenchQuery(
        qid="GBQ-hadoop-13478269",
        text="Upgrade Maven Surefire plugin to 3.0.0-M7",
        relevant_ids=frozenset({"GB-hadoop-13478452"}),
        source="gitbugs",
        exclude_ids=frozenset({"GB-hadoop-13478269"}),
    )
    overlaps = [q.qid for q in queries["gitbugs"] if q.relevant_ids & q.exclude_ids]
    assert overlaps == []


@needs_real_data
def test_stackfaq_queries_judge_their_own_thread(queries):
    first = queries["stackfaq"][0]
    assert (first.qid, first.text, first.relevant_ids, first.exclude_ids) == (
        "SFQ-T000_Q00",
        "How to make font strikethrough on github.",
        frozenset({"SF-T000"}),
        frozenset(),
    )


def test_split_is_deterministic_disjoint_and_complete():
    items = SPLIT_QUERIES
    tune, held_out = split_queries(items)
    again_tune, again_held_out = split_queries(list(reversed(items)))
    assert {q.qid for q in again_held_out} == {q.qid for q in held_out}
    assert {q.qid for q in tune} & {q.qid for q in held_out} == set()
    assert len(tune) + len(held_out) == len(items)
    assert 0.25 < len(held_out) / len(items) < 0.35


def test_split_keeps_a_query_on_its_side_when_others_are_dropped():
    items = SPLIT_QUERIES
    _, held_out = split_queries(items)
    _, held_out_of_half = split_queries(items[::2])
    assert {q.qid for q in held_out_of_half} == {q.qid for q in held_out} & {q.qid for q in items[::2]}


def test_split_changes_with_the_seed():
    _, first = split_queries(SPLIT_QUERIES, seed="a")
    _, second = split_queries(SPLIT_QUERIES, seed="b")
    assert {q.qid for q in first} != {q.qid for q in second}


def test_split_rejects_a_fraction_above_one():
    with pytest.raises(ValueError, match="between 0 and 1, got 1.5"):
        split_queries([], held_out_fraction=1.5)


def test_write_jsonl_round_trips_records(tmp_path):
    records = [json.loads(line) for line in SAMPLE_CALLS.read_text(encoding="utf-8").splitlines()[:3]]
    path = tmp_path / "calls.jsonl"
    assert write_jsonl(records, path) == 3
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records


def test_main_writes_every_record(mini, tmp_path, capsys):
    path = tmp_path / "all.jsonl"
    assert corpora.main([str(path), "--data", str(mini)]) == 0
    assert capsys.readouterr().out == f"wrote 9 call records to {path}\n"
    assert [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()] == [
        call["id"] for call in all_calls(mini)
    ]


def test_main_without_a_path_prints_usage(capsys):
    with pytest.raises(SystemExit) as exited:
        corpora.main([])
    assert exited.value.code == 2
    assert "usage: python -m bench.corpora [-h] [--data DIR] out" in capsys.readouterr().err


def test_main_without_the_data_names_what_is_missing_and_where_to_get_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        corpora.main([str(tmp_path / "all.jsonl"), "--data", str(tmp_path)])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(f"python -m bench.corpora: the data folder {tmp_path} lacks stackfaq/faq_threads.jsonl, ")
    assert "  gitbugs_duplicates/  GitBugs (Patil, Han & Jadon 2024)" in error
    assert "from github.com/MicrosoftDocs/OfficeDocs-Support; CC BY 4.0" in error
    assert not (tmp_path / "all.jsonl").exists()


def test_misspelling_table_is_inverted_and_filtered(misspellings):
    assert misspellings["receive"] == ("reciev", "recieve")  # rec1eve is not all letters
    assert misspellings["address"] == ("addres", "adress")
    assert "the" not in misspellings  # shorter than 4 letters
    assert "ACPI" not in misspellings and "acpi" not in misspellings  # only lowercase corrections
    assert "a lot" not in misspellings and "allot" not in misspellings  # auto_fix=0: two fixes


def test_inject_typos_uses_a_real_misspelling(misspellings):
    table = misspellings
    typed = inject_typos("receive the address", table, "T000_Q00")
    changed = [(a, b) for a, b in zip("receive the address".split(), typed.split()) if a != b]
    assert len(changed) == 1
    original, typo = changed[0]
    assert typo in table[original]


def test_inject_typos_is_deterministic_and_keyed(misspellings):
    table = misspellings
    text = "I did not receive the address of the calendar in my account"
    runs = {inject_typos(text, table, "Q1") for _ in range(3)}
    keyed = {inject_typos(text, table, f"Q{n}") for n in range(20)}
    assert len(runs) == 1
    assert len(keyed) > 1


def test_inject_typos_replaces_at_most_one_word_in_four(misspellings):
    table = misspellings
    text = "receive address calendar necessary download receive address calendar"
    typed = inject_typos(text, table, "k")
    changed = sum(a != b for a, b in zip(text.split(), typed.split()))
    assert changed == 2


def test_inject_typos_keeps_case_and_punctuation(misspellings):
    table = misspellings
    typed = inject_typos("(Receive)", table, "k")
    assert typed[:2] == "(R"
    assert typed[-1] == ")"
    assert typed[1:-1].lower() in table["receive"]


def test_inject_typos_returns_none_when_nothing_can_change(misspellings):
    assert inject_typos("the of a 42", misspellings, "k") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("color printer license", "colour printer licence"),
        ("Organize the Center's catalog.", "Organise the Centre's catalogue."),
        ('"Unauthorized" behavior', '"Unauthorised" behaviour'),
        ("install program on disk, run spell checker", None),
        ("draft meter story practice tire curb", None),
        ("What's the idea behind threads?", None),
        ("error ec=1129 in System.Runtime.Serialization", None),
    ],
    ids=["brief", "case-and-possessive", "quotes", "tech-sense", "sense", "proper-noun", "ids"],
)
def test_britishise(mini, text, expected):
    assert britishise(text, load_us_to_uk(mini)) == expected


def test_us_to_uk_table_skips_sense_dependent_clusters(mini):
    pairs = load_us_to_uk(mini)
    assert [word in pairs for word in ("program", "disks", "checker", "tires")] == [False] * 4
    assert (pairs["color"], pairs["licenses"]) == ("colour", "licences")
