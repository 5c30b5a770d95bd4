"""Real call records and judged queries for the relevance benchmark.

Three public data sets in the data folder (``bench.data``, ``docs/data.md``; read-only) become
call records in the product's shape: StackFAQ web-app threads (``SF-``), GitBugs Hadoop/SeaMonkey
reports (``GB-``) and Microsoft Office support articles (``MS-``). Each source also gives a query
set whose relevant ids point at those records. Run ``python -m bench.corpora OUT.jsonl [--data DIR]``
to write all records as JSON Lines for the importer.
"""

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from bench.data import CALL_FILES, BenchDataError, add_data_argument, data_or_exit, read_jsonl, read_tsv

TITLE_LIMIT = 1000
TEXT_LIMIT = 100_000

# StackFAQ threads carry no dates; the dataset's publication (ESWA vol. 91, Jan 2018) stands in.
STACKFAQ_CREATED_AT = "2018-01-01T00:00:00+00:00"

# (pattern, product) for StackFAQ questions; the earliest match in the question wins.
STACKFAQ_PRODUCTS = (
    (r"gmail", "Gmail"),
    (r"google (docs?|documents?)", "Google Docs"),
    (r"google spreadsheets?|google sheets", "Google Sheets"),
    (r"google drive", "Google Drive"),
    (r"google maps", "Google Maps"),
    (r"(google )?hangouts", "Google Hangouts"),
    (r"google search", "Google Search"),
    (r"facebook", "Facebook"),
    (r"github", "GitHub"),
    (r"trello", "Trello"),
    (r"youtube", "YouTube"),
    (r"twitter|tweets?", "Twitter"),
    (r"dropbox", "Dropbox"),
    (r"vimeo", "Vimeo"),
    (r"quora", "Quora"),
    (r"wolfram alpha", "Wolfram Alpha"),
)

GITBUGS_PRODUCTS = {"hadoop": "Hadoop", "seamonkey": "SeaMonkey"}


@dataclass(frozen=True)
class BenchQuery:
    """One judged query: its text, the ids that answer it, and ids to drop from its ranking."""

    qid: str
    text: str
    relevant_ids: frozenset[str]
    source: str
    exclude_ids: frozenset[str] = frozenset()


def _clip(text, limit):
    """Cut ``text`` to at most ``limit`` characters at a whitespace boundary."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    # Fall back to a hard cut when the tail is one huge token (a log line, a URL).
    return (cut[:space] if space > limit // 2 else cut).rstrip()


def _record(id, title, problem, resolution, product, category, tags, created_at, resolved):
    """Build a call record with the product's length limits applied."""
    return {
        "id": id,
        "title": _clip(title, TITLE_LIMIT),
        "problem": _clip(problem, TEXT_LIMIT),
        "resolution": _clip(resolution, TEXT_LIMIT),
        "product": product,
        "category": category,
        "tags": list(tags),
        "created_at": created_at,
        "resolved": resolved,
    }


def stackfaq_product(question):
    """Name the web app a StackFAQ question is about.

    :param question: the thread's question title.
    :returns: the product whose keyword comes first, e.g. ``"Gmail"``, else ``"Web apps"``.
    """
    found = []
    for pattern, product in STACKFAQ_PRODUCTS:
        match = re.search(rf"\b({pattern})\b", question, re.IGNORECASE)
        if match:
            found.append((match.start(), product))
    return min(found)[1] if found else "Web apps"


def stackfaq_calls(data_dir):
    """Load the 125 StackFAQ threads as call records ``SF-T000`` … ``SF-T124``.

    :param data_dir: the data folder (a Path).
    :returns: a list of call records; the answers, joined, are the resolution.
    :raises BenchDataError: when the file is missing.
    """
    return [
        _record(
            id=f"SF-{thread['id']}",
            title=thread["question"],
            problem=thread["question"],
            resolution="\n\n".join(thread["answers"]),
            product=stackfaq_product(thread["question"]),
            category="web apps",
            tags=[],
            created_at=STACKFAQ_CREATED_AT,
            resolved=bool(thread["answers"]),
        )
        for thread in read_jsonl(data_dir / "stackfaq" / "faq_threads.jsonl")
    ]


def gitbugs_id(project, report_id):
    """Give the call id of a GitBugs report.

    :param project: ``"hadoop"`` or ``"seamonkey"``.
    :param report_id: the tracker's issue number as text.
    :returns: e.g. ``"GB-hadoop-13404344"``.
    """
    return f"GB-{project}-{report_id}"


def gitbugs_timestamp(value):
    """Normalise a GitBugs date to ISO 8601 in UTC.

    Hadoop JIRA dates (``30/Sep/21 17:20``) carry no zone and are taken as UTC;
    SeaMonkey dates (``2020-01-02 17:14:21+00:00``) already are.

    :param value: the tracker's date text.
    :returns: e.g. ``"2021-09-30T17:20:00+00:00"``.
    :raises BenchDataError: when the text matches neither format.
    """
    try:
        if "/" in value:
            moment = datetime.strptime(value, "%d/%b/%y %H:%M")
        else:
            moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise BenchDataError(f"unknown GitBugs date {value!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _gitbugs_call(report):
    """Map one GitBugs report to a call record."""
    status, resolution = report["status"].strip(), report["resolution"].strip()
    tags = [f"priority:{report['priority']}"] if report.get("priority") else []
    if report.get("affects_version"):
        tags.append(f"version:{report['affects_version']}")
    return _record(
        id=gitbugs_id(report["project"], report["id"]),
        title=report["summary"],
        problem=(report["description"] or "").replace("\r\n", "\n"),
        resolution=f"{status} as {resolution}" if resolution else status,
        product=GITBUGS_PRODUCTS.get(report["project"], report["project"]),
        category="bug report",
        tags=tags,
        created_at=gitbugs_timestamp(report["created"]),
        resolved=bool(resolution),
    )


def gitbugs_calls(data_dir):
    """Load the 3,579 Hadoop and SeaMonkey reports as call records ``GB-<project>-<id>``.

    :param data_dir: the data folder (a Path).
    :returns: a list of call records; the resolution is the tracker's verdict,
        e.g. ``"RESOLVED as DUPLICATE"`` or ``"Open"``.
    :raises BenchDataError: when the file is missing or a date is unreadable.
    """
    path = data_dir / "gitbugs_duplicates" / "reports.jsonl.gz"
    return [_gitbugs_call(report) for report in read_jsonl(path)]


def ms_slug(article_id):
    """Turn a Microsoft article id (its repo path) into the slug used in call ids.

    :param article_id: e.g. ``"Outlook/Client/security/can't-display-dlp-policytip"``.
    :returns: lowercase letters and digits joined by ``-``,
        e.g. ``"outlook-client-security-can-t-display-dlp-policytip"``.
    """
    return re.sub(r"[^a-z0-9]+", "-", article_id.lower()).strip("-")


def ms_timestamp(value):
    """Normalise an ``ms.date`` (``MM/DD/YYYY``, sometimes a list) to ISO 8601 in UTC.

    :param value: the front-matter value, e.g. ``"01/24/2024"`` or ``["06/24/2024", "NOCSH"]``.
    :returns: e.g. ``"2024-01-24T00:00:00+00:00"``.
    :raises BenchDataError: when no date can be read.
    """
    text = value[0] if isinstance(value, list) and value else value
    try:
        moment = datetime.strptime(str(text).strip(), "%m/%d/%Y")
    except ValueError as error:
        raise BenchDataError(f"unknown ms.date {value!r}") from error
    return moment.replace(tzinfo=timezone.utc).isoformat()


def _joined(*parts):
    """Join the non-empty parts with blank lines."""
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def _ms_call(article):
    """Map one Microsoft support article to a call record."""
    sections = article["sections"]
    problem = sections.get("symptoms") or article.get("description") or article["text"]
    resolution = (
        sections.get("resolution")
        or sections.get("workaround")
        or _joined(sections.get("cause"), sections.get("more_information"))
        or _joined(sections.get("summary"), sections.get("status"))
        # How-to articles have no named sections: their body is the answer.
        or article["text"]
    )
    support_areas = [area for area in article.get("support_area") or [] if area]
    kb_number = article.get("original_kb_number")
    return _record(
        id=f"MS-{ms_slug(article['id'])}",
        title=article.get("title") or article.get("h1"),
        problem=problem,
        resolution=resolution,
        product=article["product_area"],
        category=support_areas[0] if support_areas else "office",
        tags=support_areas + ([f"KB{kb_number}"] if kb_number else []),
        created_at=ms_timestamp(article["ms_date"]),
        resolved=True,
    )


def ms_kb_calls(data_dir):
    """Load the 2,426 Microsoft Office support articles as call records ``MS-<slug>``.

    :param data_dir: the data folder (a Path).
    :returns: a list of call records (symptoms → problem, resolution/workaround → resolution).
    :raises BenchDataError: when the file is missing or a date is unreadable.
    """
    path = data_dir / "ms_office_support_kb" / "articles.jsonl.gz"
    return [_ms_call(article) for article in read_jsonl(path)]


def all_calls(data_dir):
    """Load every source's call records (about 6,130).

    :param data_dir: the data folder (a Path).
    :returns: StackFAQ, then GitBugs, then Microsoft records.
    :raises BenchDataError: when a file is missing or two records share an id.
    """
    calls = stackfaq_calls(data_dir) + gitbugs_calls(data_dir) + ms_kb_calls(data_dir)
    ids = [call["id"] for call in calls]
    if len(set(ids)) != len(ids):
        raise BenchDataError(f"{len(ids) - len(set(ids))} duplicate call ids across sources")
    return calls


def stackfaq_queries(data_dir):
    """Load the 1,249 human rephrasings, each judged relevant to its own thread.

    :param data_dir: the data folder (a Path).
    :returns: queries ``SFQ-T000_Q00`` … with ``relevant_ids={"SF-T000"}``.
    :raises BenchDataError: when the file is missing.
    """
    return [
        BenchQuery(
            qid=f"SFQ-{row['qid']}",
            text=row["query"],
            relevant_ids=frozenset({f"SF-{row['thread_id']}"}),
            source="stackfaq",
        )
        for row in read_tsv(data_dir / "stackfaq" / "queries.tsv")
    ]


def gitbugs_queries(data_dir):
    """Build "find the duplicate" queries from tracker links with both reports in the corpus.

    One query per reporting issue; its text is that issue's summary, its relevant ids are
    every report the tracker linked it to, and the issue itself is excluded from the ranking.

    :param data_dir: the data folder (a Path).
    :returns: queries ``GBQ-<project>-<id>`` in file order of first appearance.
    :raises BenchDataError: when a file is missing or a pair names an unknown report.
    """
    folder = data_dir / "gitbugs_duplicates"
    summaries = {
        gitbugs_id(report["project"], report["id"]): report["summary"]
        for report in read_jsonl(folder / "reports.jsonl.gz")
    }
    relevant = {}
    for row in read_tsv(folder / "duplicate_pairs.tsv"):
        if row["both_in_corpus"] != "1":
            continue
        query_id = gitbugs_id(row["project"], row["issue_id"])
        duplicate_id = gitbugs_id(row["project"], row["duplicate_id"])
        if query_id not in summaries or duplicate_id not in summaries:
            raise BenchDataError(f"pair {query_id} → {duplicate_id} names a missing report")
        relevant.setdefault(query_id, set()).add(duplicate_id)
    return [
        BenchQuery(
            qid=f"GBQ-{query_id[len('GB-') :]}",
            text=summaries[query_id],
            relevant_ids=frozenset(duplicates),
            source="gitbugs",
            exclude_ids=frozenset({query_id}),
        )
        for query_id, duplicates in relevant.items()
    ]


def ms_error_queries(data_dir):
    """Load the error messages quoted in Microsoft articles as queries for those articles.

    These are derived, not human judgments: an "exact error message pasted" test.

    :param data_dir: the data folder (a Path).
    :returns: queries ``MSQ-E00000`` … with ``relevant_ids={"MS-<slug>"}``.
    :raises BenchDataError: when a query names an article that is not in the corpus.
    """
    folder = data_dir / "ms_office_support_kb"
    article_ids = {article["id"] for article in read_jsonl(folder / "articles.jsonl.gz")}
    queries = []
    for row in read_tsv(folder / "derived_error_message_queries.tsv"):
        if row["article_id"] not in article_ids:
            raise BenchDataError(f"query {row['qid']} names unknown article {row['article_id']}")
        queries.append(
            BenchQuery(
                qid=f"MSQ-{row['qid']}",
                text=row["query"],
                relevant_ids=frozenset({f"MS-{ms_slug(row['article_id'])}"}),
                source="ms_errors",
            )
        )
    return queries


def all_queries(data_dir):
    """Load the three query sets together.

    :param data_dir: the data folder (a Path).
    :returns: StackFAQ, then GitBugs, then Microsoft error-message queries.
    """
    return stackfaq_queries(data_dir) + gitbugs_queries(data_dir) + ms_error_queries(data_dir)


def split_queries(queries, held_out_fraction=0.3, seed="kb-bench-v1"):
    """Split queries into a tuning part and a held-out part by a hash of each qid.

    The split depends only on ``seed`` and the qid, so a query stays on its side across
    runs and when other queries are added or removed.

    :param queries: ``BenchQuery`` items.
    :param held_out_fraction: the expected share of held-out queries, from 0 to 1.
    :param seed: any text; change it to draw a different split.
    :returns: ``(tune, held_out)``, two lists in the input order.
    :raises ValueError: when ``held_out_fraction`` is outside 0..1.
    """
    if not 0 <= held_out_fraction <= 1:
        raise ValueError(f"held_out_fraction must be between 0 and 1, got {held_out_fraction}")
    tune, held_out = [], []
    for query in queries:
        digest = hashlib.sha256(f"{seed}\0{query.qid}".encode()).digest()
        share = int.from_bytes(digest[:8], "big") / 2**64
        (held_out if share < held_out_fraction else tune).append(query)
    return tune, held_out


def write_jsonl(records, path):
    """Write call records as JSON Lines (UTF-8, one record a line).

    :param records: an iterable of dicts.
    :param path: the file to create or overwrite.
    :returns: the number of records written.
    """
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def main(argv=None):
    """Write all call records to the JSON Lines file named on the command line.

    :param argv: the arguments after the program name; defaults to ``sys.argv[1:]``.
    :returns: the process exit status (2, with a message, when the data folder lacks a file).
    """
    parser = argparse.ArgumentParser(prog="python -m bench.corpora", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the .jsonl file to write")
    add_data_argument(parser)
    args = parser.parse_args(argv)
    data = data_or_exit(parser.prog, args.data, CALL_FILES)
    try:
        count = write_jsonl(all_calls(data), args.out)
    except (BenchDataError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {count} call records to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
