"""A miniature benchmark data folder, hand-written in each public data set's format (docs/data.md).

The rows are made up for the tests (a few real-looking words and ids, no text copied from the data sets), so
the loaders, the perturbations and the benchmarks run on a clone that has no data folder beside it.
"""

import gzip
import json

THREADS = [
    {
        "id": "T000",
        "question": "Strikethrough with GitHub Markdown",
        "answers": ["Use ~~tildes around the words~~.", "I just used <del> tags and it worked."],
    },
    {"id": "T001", "question": "Undo a sent message in Gmail", "answers": ["Turn on Undo Send in the settings."]},
    {"id": "T002", "question": "Trello board background color cannot be changed", "answers": []},
]
REPHRASINGS = [
    ("T000_Q00", "T000", "How to make font strikethrough on github."),
    ("T001_Q00", "T001", "can i unsend an email in gmail after i receive the wrong address"),
    ("T002_Q00", "T002", "change the color of a trello board"),
]
REPORTS = [
    {
        "project": "hadoop",
        "id": "13404344",
        "summary": "JAR in conflict with timestamp check causes AM errors",
        "description": "The application master fails\r\nwhen a localized JAR changed after the check.",
        "status": "Resolved",
        "priority": "Major",
        "resolution": "Duplicate",
        "created": "30/Sep/21 17:20",
        "resolved": "01/Oct/21 08:00",
        "affects_version": "3.3.1",
    },
    {
        "project": "hadoop",
        "id": "13404000",
        "summary": "Timestamp check of a localized JAR fails the application master",
        "description": "",
        "status": "Open",
        "priority": "",
        "resolution": "",
        "created": "01/Sep/21 09:00",
        "resolved": "",
        "affects_version": "",
    },
    {
        "project": "seamonkey",
        "id": "1600001",
        "summary": "Cannot receive mail after the upgrade",
        "description": "Since the upgrade no new mail arrives in the inbox.",
        "status": "RESOLVED",
        "priority": "P3",
        "resolution": "DUPLICATE",
        "created": "2020-01-02 17:14:21+00:00",
        "resolved": "2020-01-05 10:00:00+00:00",
        "affects_version": "2.53",
    },
    {
        "project": "seamonkey",
        "id": "1600000",
        "summary": "Mail is not received since upgrading",
        "description": "The inbox stays empty after the upgrade.",
        "status": "NEW",
        "priority": "",
        "resolution": "",
        "created": "2019-12-30 08:00:00+00:00",
        "resolved": "",
        "affects_version": "",
    },
]
# issue_id, duplicate_id, both in the corpus: the last pair names a report the corpus lacks and is skipped.
DUPLICATE_PAIRS = [
    ("hadoop", "13404344", "13404000", "1"),
    ("seamonkey", "1600001", "1600000", "1"),
    ("seamonkey", "1600001", "1599999", "0"),
]
HYBRID_ARTICLE = "Exchange/ExchangeHybrid/administration/cannot-add-and-verify-domain"
DLP_ARTICLE = "Outlook/Client/security/can't-display-dlp-policytip"
ARTICLES = [
    {
        "id": HYBRID_ARTICLE,
        "product_area": "Exchange/ExchangeHybrid",
        "title": "Can't add and verify a domain in hybrid",
        "h1": "Can't add and verify a domain",
        "description": "Describes a domain verification error in a hybrid deployment.",
        "original_kb_number": "3089230",
        "applies_to": ["Exchange Online"],
        "support_area": ["Hybrid"],
        "ms_date": "01/24/2024",
        "sections": {
            "symptoms": "You have a hybrid deployment and see: The domain could not be verified by the wizard.",
            "resolution": "To resolve this issue, follow these steps: add the TXT record, then run the wizard.",
        },
        "text": "Whole article.",
    },
    {
        "id": DLP_ARTICLE,
        "product_area": "Outlook/Client",
        "title": "",
        "h1": "Outlook can't display the DLP policy tip",
        "description": "",
        "original_kb_number": None,
        "applies_to": [],
        "support_area": [],
        "ms_date": ["06/24/2024", "NOCSH"],
        "sections": {},
        "text": "Check that the policy tip is turned on in the compliance center.",
    },
]
ERROR_QUERIES = [("E00000", HYBRID_ARTICLE, "The domain could not be verified by the wizard")]
# codespell's columns; teh (short), ACPI (capitals), alot (two fixes) and rec1eve (digit) are left out.
MISSPELLINGS = [
    ("misspelling", "corrections", "auto_fix", "reason"),
    ("recieve", "receive", "1", ""),
    ("reciev", "receive", "1", ""),
    ("adress", "address", "1", ""),
    ("addres", "address", "1", ""),
    ("calender", "calendar", "1", ""),
    ("neccessary", "necessary", "1", ""),
    ("donwload", "download", "1", ""),
    ("teh", "the", "1", ""),
    ("acpi", "ACPI", "1", ""),
    ("alot", "a lot|allot", "0", ""),
    ("rec1eve", "receive", "1", ""),
]
# VarCon's pairs; program, disk, checker and tires belong to sense-dependent clusters, Idea is a proper noun
# and ec a rare unverified form, so all of those are left out.
US_UK_PAIRS = [
    ("us", "uk_ise", "uk_ize_oxford", "canadian", "australian", "scowl_level", "verified", "cluster_headword"),
    ("color", "colour", "colour", "colour", "colour", "35", "yes", "color"),
    ("licenses", "licences", "licences", "licences", "licences", "50", "yes", "license"),
    ("license", "licence", "licence", "licence", "licence", "35", "yes", "license"),
    ("organize", "organise", "organize", "organize", "organise", "35", "yes", "organize"),
    ("center's", "centre's", "centre's", "centre's", "centre's", "50", "yes", "center"),
    ("catalog", "catalogue", "catalogue", "catalogue", "catalogue", "50", "yes", "catalog"),
    ("unauthorized", "unauthorised", "unauthorized", "unauthorized", "unauthorised", "50", "yes", "authorize"),
    ("behavior", "behaviour", "behaviour", "behaviour", "behaviour", "35", "yes", "behavior"),
    ("program", "programme", "programme", "program", "program", "35", "yes", "program"),
    ("disks", "discs", "discs", "discs", "discs", "35", "yes", "disk"),
    ("checker", "chequer", "chequer", "checker", "checker", "50", "yes", "check"),
    ("tires", "tyres", "tyres", "tires", "tyres", "35", "yes", "tire"),
    ("Idea", "Idaea", "Idaea", "Idaea", "Idaea", "80", "no", "Idea"),
    ("ec", "aec", "aec", "aec", "aec", "95", "no", "ec"),
]


def _write_tsv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")


def _write_jsonl(path, items):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")


def write_mini_data(folder):
    """Write the miniature data folder under ``folder`` (a Path) and return it."""
    _write_jsonl(folder / "stackfaq" / "faq_threads.jsonl", THREADS)
    _write_tsv(folder / "stackfaq" / "queries.tsv", [("qid", "thread_id", "query"), *REPHRASINGS])
    _write_jsonl(folder / "gitbugs_duplicates" / "reports.jsonl.gz", REPORTS)
    _write_tsv(
        folder / "gitbugs_duplicates" / "duplicate_pairs.tsv",
        [("project", "issue_id", "duplicate_id", "both_in_corpus"), *DUPLICATE_PAIRS],
    )
    _write_jsonl(folder / "ms_office_support_kb" / "articles.jsonl.gz", ARTICLES)
    _write_tsv(
        folder / "ms_office_support_kb" / "derived_error_message_queries.tsv",
        [("qid", "article_id", "query"), *ERROR_QUERIES],
    )
    _write_tsv(folder / "codespell_dictionary" / "misspellings.tsv", MISSPELLINGS)
    _write_tsv(folder / "us_uk_spelling" / "varcon_us_uk_pairs.tsv", US_UK_PAIRS)
    return folder
