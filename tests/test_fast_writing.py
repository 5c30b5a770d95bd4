"""The faster segment writer (index.fast_writing) writes exactly the files Whoosh 2.7.4 writes."""

import json
from contextlib import nullcontext
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import StandardAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage
from whoosh.qparser import QueryParser

from index import posting_file, whoosh_compat
from index.schema import call_schema, index_document
from store.records import content_hash, validate_record

SAMPLE_CALLS = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"
SAMPLE = [json.loads(line) for line in SAMPLE_CALLS.read_text().splitlines() if line.strip()]


def sample_twice():
    """The sample calls and a copy of each under another id: 600 calls, common words over several blocks."""
    return SAMPLE + [dict(record, id=f"{record['id']}-AGAIN", title=f"{record['title']} again") for record in SAMPLE]


def call_documents(records):
    clean = [validate_record(record) for record in records]
    return [index_document(record, content_hash(record)) for record in clean]


def segment_files(folder):
    """Every file inside every segment of an index, in segment order, named without the random segment id."""
    ix = whoosh_index.open_dir(str(folder))
    storage = FileStorage(str(folder))
    files = {}
    for number, segment in enumerate(ix._segments()):
        if segment.is_compound():
            compound = CompoundStorage(storage.open_file(segment.make_filename(".seg")))
            names = {name: compound.open_file(name) for name in compound.list()}
        else:
            names = {name: storage.open_file(name) for name in storage.list() if segment.segid in name}
        for name, handle in names.items():
            files[f"{number}:{name.replace(segment.segid, 'SEGMENT')}"] = bytes(handle.read())
    return files


def write_index(folder, schema, batches, fast, optimize=False, **writer_options):
    """Write each batch of documents (or ``("delete", id)`` steps) in its own commit, then merge all if asked,
    with the product's writer (installed for the tests by conftest) or, for ``fast=False``, Whoosh's own."""
    with nullcontext() if fast else whoosh_compat.shipped():
        return _write_index(folder, schema, batches, optimize, **writer_options)


def _write_index(folder, schema, batches, optimize=False, **writer_options):
    folder.mkdir(parents=True)
    ix = whoosh_index.create_in(str(folder), schema)
    for batch in batches:
        writer = ix.writer(**writer_options)
        for step in batch:
            if isinstance(step, tuple):
                writer.delete_by_term("id", step[1])
            else:
                writer.update_document(**step)
        writer.commit()
    if optimize:
        ix.optimize()
    return segment_files(folder)


def assert_same_index(tmp_path, schema, batches, optimize=False, **writer_options):
    """Whoosh's files come out byte for byte; the fast writer adds one file per segment, its posting arrays."""
    shipped = write_index(tmp_path / "shipped", schema, batches, fast=False, optimize=optimize, **writer_options)
    fast = write_index(tmp_path / "fast", schema, batches, fast=True, optimize=optimize, **writer_options)
    arrays = {name for name in fast if name.endswith(posting_file.EXTENSION)}
    assert sorted(set(fast) - arrays) == sorted(shipped)
    assert len(arrays) == len({name.split(":")[0] for name in shipped})
    differing = [name for name in shipped if fast[name] != shipped[name]]
    assert differing == []
    return fast


def test_the_sample_knowledge_base_gives_the_same_segment_files(tmp_path):
    files = assert_same_index(tmp_path, call_schema(), [call_documents(SAMPLE)])
    assert any(name.endswith(".pst") for name in files)


def test_the_same_files_come_out_when_the_pool_spills_to_disk(tmp_path):
    documents = call_documents(sample_twice())
    # A tenth of a megabyte makes both pools write and merge many sorted runs.
    assert_same_index(tmp_path, call_schema(), [documents], limitmb=0.1)


def test_updates_deletions_and_segment_merges_give_the_same_files(tmp_path):
    documents = call_documents(sample_twice())
    changed = [dict(document, text=document["text"] + " printer jammed again") for document in documents[:50]]
    batches = [documents[:200], documents[200:400], changed + [("delete", documents[300]["id"])], documents[400:]]
    assert_same_index(tmp_path / "segments", call_schema(), batches)
    merged = assert_same_index(tmp_path / "merged", call_schema(), batches, optimize=True)
    assert {name.split(":")[0] for name in merged} == {"0"}
    with whoosh_index.open_dir(str(tmp_path / "merged" / "fast")).searcher() as searcher:
        assert searcher.doc_count_all() == 599


def test_other_fields_and_options_take_whooshs_own_path_and_still_match(tmp_path):
    schema = Schema(
        id=ID(stored=True, unique=True),
        body=TEXT(analyzer=StandardAnalyzer(), stored=True),
        boosted=TEXT(field_boost=2.0),
        tags=KEYWORD(scorable=True, commas=True),
        size=NUMERIC(stored=True),
        vectors=TEXT(vector=True),
        note=STORED(),
    )
    documents = [
        {
            "id": f"doc-{n}",
            "body": f"router number {n} drops the wifi connection",
            "boosted": "licence key" if n % 2 else "license key",
            "tags": "network,wifi" if n % 3 else "printer",
            "size": n,
            "vectors": "outlook crashes on start",
            "note": {"n": n},
            "_boost": 1.5 if n % 5 == 0 else 1.0,
        }
        for n in range(300)
    ]
    assert_same_index(tmp_path, schema, [documents[:150], documents[150:]])


def test_an_index_written_fast_answers_searches_like_one_written_by_whoosh(tmp_path):
    documents = call_documents(SAMPLE)
    answers = {}
    for fast in (False, True):
        folder = tmp_path / ("fast" if fast else "shipped")
        write_index(folder, call_schema(), [documents], fast=fast)
        ix = whoosh_index.open_dir(str(folder))
        with ix.searcher() as searcher:
            query = QueryParser("text", ix.schema).parse("printer offline")
            answers[fast] = [(hit["id"], hit.score) for hit in searcher.search(query, limit=20)]
    assert answers[True] == answers[False]
    assert len(answers[True]) > 0


def test_document_and_field_boosts_reach_the_directly_counted_weights(tmp_path):
    documents = call_documents(SAMPLE[:60])
    for number, document in enumerate(documents):
        if number % 3 == 0:
            document["_boost"] = 2.0
        if number % 4 == 0:
            document["_text_boost"] = 0.5
    assert_same_index(tmp_path, call_schema(), [documents])


def test_long_posting_lists_are_also_written_as_the_arrays_whoosh_reads(tmp_path, monkeypatch):
    """Every list of at least MIN_POSTINGS postings, in every segment (merges included), as plain arrays; read
    again from the few lists a file keeps (forgotten whenever it holds KEPT_LISTS), the same arrays."""
    monkeypatch.setattr(posting_file, "MIN_POSTINGS", 64)
    monkeypatch.setattr(posting_file, "KEPT_LISTS", 5)
    batches = [
        call_documents(sample_twice()[:400]),
        call_documents(sample_twice()[400:]),
        [("delete", SAMPLE[3]["id"])],
    ]
    write_index(tmp_path / "fast", call_schema(), batches, fast=True)
    checked = 0
    with whoosh_index.open_dir(str(tmp_path / "fast")).reader() as reader:
        for leaf, _ in reader.leaf_readers():
            arrays = posting_file.PostingFile(whoosh_compat.segment_file(leaf, posting_file.EXTENSION))
            for fieldname, term in leaf.all_terms():
                found = arrays.get(fieldname, term)
                expected = whoosh_compat.posting_list(leaf, fieldname, term)
                if len(expected.ids) < 64:
                    assert found is None
                    continue
                ids, weights, ends, maxima, minima = found
                assert (ids.tolist(), weights.tolist()) == (expected.ids.tolist(), expected.weights.tolist())
                assert (ends.tolist(), maxima.tolist()) == (
                    expected.block_ends.tolist(),
                    expected.block_max_weights.tolist(),
                )
                assert minima.tolist() == expected.block_min_lengths.tolist()
                again = arrays.get(fieldname, term)
                assert [part.tolist() for part in again] == [part.tolist() for part in found]
                checked += 1
    assert checked >= 20


def test_commits_that_merge_small_segments_into_a_new_one_give_the_same_files(tmp_path):
    """Whoosh merges small segments into the one a commit writes: their postings join the new calls' counted ones."""
    documents = call_documents(SAMPLE[:50])
    edits = [[dict(documents[n], resolution=documents[n]["resolution"] + " Checked again.")] for n in range(0, 50, 5)]
    assert_same_index(tmp_path, call_schema(), [documents, *edits])
