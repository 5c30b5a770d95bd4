"""Hand-written support-agent queries judged against the real call records.

``data/agent_queries.tsv`` holds short queries the way an agent types while a caller
describes a symptom, each judged relevant to one or a few records of ``bench.corpora``
(``MS-<slug>`` Microsoft articles, ``SF-T000`` StackFAQ threads). Every query has a kind:
``clean`` (correct US English) or a perturbed kind (``typo``, ``sound-alike``, ``british``,
``mixed``) that also carries its own correctly spelt ``clean_text``. See
``data/agent_queries.README.md`` for how the set was written.

Run ``python -m bench.agent_queries --check [--data DIR]`` to load the records and report
every query that breaks the set's rules.
"""

import argparse
import csv
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter import stem

from analyzers.spelling import us_spelling
from bench import corpora
from bench.data import DEFAULT_DATA

DEFAULT_PATH = Path(__file__).parent / "data" / "agent_queries.tsv"
COLUMNS = ("qid", "kind", "text", "clean_text", "relevant_ids", "source")
CLEAN_KIND = "clean"
PERTURBED_KINDS = ("typo", "sound-alike", "british", "mixed")
KINDS = (CLEAN_KIND, *PERTURBED_KINDS)
# Each source's id prefix in bench.corpora.
ID_PREFIX_BY_SOURCE = {"ms": "MS-", "stackfaq": "SF-"}
MIN_WORDS = 2
MAX_WORDS = 6
MAX_SHARED_TITLE_WORDS = 1
MAX_QUERIES_PER_RECORD = 2

NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


class AgentQueryError(Exception):
    """The query file is missing or a row does not have the expected columns."""


@dataclass(frozen=True)
class AgentQuery:
    """One agent query: what was typed, its correctly spelt form, and the records that answer it."""

    qid: str
    kind: str
    text: str
    clean_text: str
    relevant_ids: frozenset[str]
    source: str


def load_agent_queries(path=DEFAULT_PATH):
    """Read the agent queries from their TSV file.

    :param path: a UTF-8 TSV file with the header ``qid kind text clean_text relevant_ids source``.
    :returns: a list of ``AgentQuery`` in file order; ``relevant_ids`` split on whitespace.
    :raises AgentQueryError: when the file is unreadable, the header differs or a row has
        the wrong number of fields.
    """
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except OSError as error:
        raise AgentQueryError(f"cannot read {path}: {error}") from error
    if not rows or tuple(rows[0]) != COLUMNS:
        raise AgentQueryError(f"{path}: the header must be {' '.join(COLUMNS)!r}")
    queries = []
    for line_number, fields in enumerate(rows[1:], start=2):
        if len(fields) != len(COLUMNS):
            raise AgentQueryError(f"{path}, line {line_number}: expected {len(COLUMNS)} fields, got {len(fields)}")
        qid, kind, text, clean_text, relevant_ids, source = (field.strip() for field in fields)
        queries.append(AgentQuery(qid, kind, text, clean_text, frozenset(relevant_ids.split()), source))
    return queries


@dataclass(frozen=True)
class AgentBenchQuery(corpora.BenchQuery):
    """An agent query for ``bench.relevance``: ``text`` is its clean form; ``typed`` what the agent typed."""

    kind: str = CLEAN_KIND
    typed: str = field(default="")


def bench_queries(data_dir=DEFAULT_DATA, path=DEFAULT_PATH):
    """The agent queries as ``bench.relevance`` runs them, those whose records are in the data folder.

    :param data_dir: the data folder (only queries whose relevant records its corpora hold are kept, so a
        miniature data folder gives a smaller set).
    :param path: the TSV file.
    :returns: ``AgentBenchQuery`` items in file order; ``qid`` is the set's own (``AQ-0001``).
    """
    known = set(load_records_by_id(data_dir))
    return [
        AgentBenchQuery(
            qid=query.qid,
            text=query.clean_text,
            relevant_ids=query.relevant_ids,
            source="agent",
            kind=query.kind,
            typed=query.text,
        )
        for query in load_agent_queries(path)
        if query.relevant_ids & known
    ]


def content_words(text):
    """Reduce text to the content words compared with record titles.

    Lowercase, split on anything but letters and digits, drop Whoosh's English stop words,
    turn UK spellings into US ones, then Porter-stem.

    :param text: any text, e.g. ``"The colours are Printing"``.
    :returns: a set of stems, e.g. ``{"color", "print"}``.
    """
    words = NON_ALPHANUMERIC.split(text.lower())
    return {stem(us_spelling(word)) for word in words if word and word not in STOP_WORDS}


def word_count(text):
    """Count the whitespace-separated words of a query as typed."""
    return len(text.split())


def _query_problems(query, records_by_id):
    """List what is wrong with one query on its own (no comparison with other queries)."""
    problems = []
    label = f"{query.qid} ({query.text!r})"
    if query.kind not in KINDS:
        problems.append(f"{label}: unknown kind {query.kind!r}, expected one of {', '.join(KINDS)}")
    if query.source not in ID_PREFIX_BY_SOURCE:
        problems.append(f"{label}: unknown source {query.source!r}")
    if not query.relevant_ids:
        problems.append(f"{label}: no relevant ids")
    if not query.clean_text:
        problems.append(f"{label}: empty clean_text")
    elif query.kind == CLEAN_KIND and query.text != query.clean_text:
        problems.append(f"{label}: a clean query's text must equal its clean_text {query.clean_text!r}")
    elif query.kind in PERTURBED_KINDS and query.text == query.clean_text:
        problems.append(f"{label}: a {query.kind} query's text must differ from its clean_text")
    for field_name, value in (("text", query.text), ("clean_text", query.clean_text)):
        words = word_count(value)
        if not MIN_WORDS <= words <= MAX_WORDS:
            problems.append(f"{label}: {field_name} has {words} words, expected {MIN_WORDS} to {MAX_WORDS}")
    query_words = content_words(query.clean_text)
    for record_id in sorted(query.relevant_ids):
        record = records_by_id.get(record_id)
        if record is None:
            problems.append(f"{label}: unknown record id {record_id}")
            continue
        prefix = ID_PREFIX_BY_SOURCE.get(query.source)
        if prefix and not record_id.startswith(prefix):
            problems.append(f"{label}: record {record_id} is not from source {query.source!r}")
        shared_words = query_words & content_words(record["title"])
        if len(shared_words) > MAX_SHARED_TITLE_WORDS:
            problems.append(
                f"{label}: shares {len(shared_words)} content words {sorted(shared_words)} "
                f"with the title of {record_id} ({record['title']!r}), at most {MAX_SHARED_TITLE_WORDS} allowed"
            )
    return problems


def check_queries(queries, records_by_id):
    """Find every rule a query set breaks.

    :param queries: ``AgentQuery`` items.
    :param records_by_id: call records (dicts with at least ``"title"``) by their id.
    :returns: human-readable problems, empty when the set is sound: unknown record ids,
        kinds or sources; word counts outside 2..6; more than one content word of the
        ``clean_text`` shared with a relevant record's title; an empty ``clean_text``; a
        clean query whose text differs from its ``clean_text`` or a perturbed one whose
        text equals it; duplicate qids or texts; a record judged for more than two queries.
    """
    problems = []
    for query in queries:
        problems.extend(_query_problems(query, records_by_id))
    qid_counts = Counter(query.qid for query in queries)
    problems.extend(f"duplicate qid {qid} ({count} times)" for qid, count in qid_counts.items() if count > 1)
    text_counts = Counter(query.text.lower() for query in queries)
    problems.extend(f"duplicate text {text!r} ({count} times)" for text, count in text_counts.items() if count > 1)
    queries_per_record = Counter(record_id for query in queries for record_id in query.relevant_ids)
    problems.extend(
        f"record {record_id} is relevant to {count} queries, at most {MAX_QUERIES_PER_RECORD} allowed"
        for record_id, count in sorted(queries_per_record.items())
        if count > MAX_QUERIES_PER_RECORD
    )
    return problems


def load_records_by_id(data_dir=DEFAULT_DATA):
    """Load the StackFAQ and Microsoft call records the queries point at.

    :param data_dir: the shared data folder.
    :returns: a dict of record id → call record.
    :raises bench.corpora.BenchDataError: when a data file is missing.
    """
    records = corpora.stackfaq_calls(data_dir) + corpora.ms_kb_calls(data_dir)
    return {record["id"]: record for record in records}


def count_summary(queries):
    """Describe how many queries there are of each kind and from each source.

    :param queries: ``AgentQuery`` items.
    :returns: lines of text, e.g. ``["300 queries", "kind: clean 140, typo 40, ...", ...]``.
    """
    kind_counts = Counter(query.kind for query in queries)
    source_counts = Counter(query.source for query in queries)
    kind_order = list(KINDS) + sorted(set(kind_counts) - set(KINDS))
    source_order = list(ID_PREFIX_BY_SOURCE) + sorted(set(source_counts) - set(ID_PREFIX_BY_SOURCE))
    record_count = len({record_id for query in queries for record_id in query.relevant_ids})
    lines = [f"{len(queries)} queries judged against {record_count} records"]
    lines.append("kind: " + ", ".join(f"{kind} {kind_counts[kind]}" for kind in kind_order))
    lines.append("source: " + ", ".join(f"{source} {source_counts[source]}" for source in source_order))
    for source in source_order:
        per_kind = Counter(query.kind for query in queries if query.source == source)
        lines.append(f"  {source}: " + ", ".join(f"{kind} {per_kind[kind]}" for kind in kind_order))
    return lines


def parse_args(argv=None):
    """Read the command line: ``--check``, ``--data DIR`` and ``--queries FILE``."""
    parser = argparse.ArgumentParser(prog="python -m bench.agent_queries", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check every query against the real records")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--queries", type=Path, default=DEFAULT_PATH, help="the agent query TSV file")
    return parser.parse_args(argv)


def main(argv=None):
    """Print the query counts and, with ``--check``, every problem found.

    :param argv: the arguments after the program name; defaults to ``sys.argv[1:]``.
    :returns: 0 when the set is sound, 1 when a problem was found, 2 when a file is unreadable.
    """
    args = parse_args(argv)
    try:
        queries = load_agent_queries(args.queries)
        records_by_id = load_records_by_id(args.data) if args.check else None
    except (AgentQueryError, corpora.BenchDataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in count_summary(queries):
        print(line)
    if records_by_id is None:
        return 0
    problems = check_queries(queries, records_by_id)
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{len(problems)} problems in {len(queries)} queries")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
