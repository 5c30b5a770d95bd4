"""Knowledge bases made of the sample calls several times over, for the engine's tests: equal texts give equal
scores, and edits committed one at a time leave several segments and deleted calls, as on a server."""

import json
from pathlib import Path

from index.build import apply_changes, rebuild
from indexer.context import open_knowledge_base
from store.records import validate_record

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"


def sample_records():
    """The sample calls, validated."""
    return [validate_record(json.loads(line)) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def indexed_knowledge_base(folder, records):
    """A knowledge base in ``folder`` holding ``records`` (validated here), indexed in one build."""
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    kb.store.upsert([validate_record(record) for record in records])
    rebuild(kb.store, kb.home)
    return kb


def edited_knowledge_base(folder, copies=3, edit_every=40):
    """The sample ``copies`` times over in one build, then every ``edit_every``-th call edited, a commit each."""
    kb = open_knowledge_base(overrides={"KB_DATA_DIR": str(folder), "KB_DATABASE_URL": ""}, environ={})
    records = sample_records()
    kb.store.upsert([{**record, "id": f"{record['id']}-{copy}"} for copy in range(copies) for record in records])
    rebuild(kb.store, kb.home)
    for record in list(kb.store.iter_records())[::edit_every]:
        kb.store.upsert([{**record, "resolution": record["resolution"] + " Checked again by phone."}])
        apply_changes(kb.store, kb.home)
    return kb


def live_docnums(searcher):
    """The document numbers of a searcher's calls that are not deleted, in order."""
    reader = searcher.reader()
    return [docnum for docnum in range(searcher.doc_count_all()) if not reader.is_deleted(docnum)]
