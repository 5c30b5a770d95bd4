"""Segment files are read from the shared memory map (index.mapped_files), not copied into each process."""

import json
import pickle
import tracemalloc
from pathlib import Path

import pytest
from whoosh import index as whoosh_index
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage

from index import whoosh_compat
from index.mapped_files import MappedFile
from index.schema import call_schema, index_document
from store.records import content_hash, validate_record

SAMPLE_CALLS = Path(__file__).resolve().parents[1] / "sample" / "calls.jsonl"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index")
    ix = whoosh_index.create_in(str(folder), call_schema())
    writer = ix.writer()
    for line in SAMPLE_CALLS.read_text().splitlines():
        record = validate_record(json.loads(line))
        writer.add_document(**index_document(record, content_hash(record)))
    writer.commit()
    return folder


def everything_a_reader_sees(folder):
    """Every term's postings (ids, weights, values) and every stored document, read from a new reader."""
    with whoosh_index.open_dir(str(folder)).reader() as reader:
        postings = {}
        for fieldname, term in reader.all_terms():
            matcher = reader.postings(fieldname, term)
            walked = []
            while matcher.is_active():
                walked.append((matcher.id(), matcher.weight(), matcher.value(), matcher.block_max_weight()))
                matcher.next()
            postings[fieldname, term] = walked
        stored = list(reader.all_stored_fields())
        lengths = [reader.doc_field_length(docnum, "text") for docnum in range(reader.doc_count_all())]
    return postings, stored, lengths


def test_a_reader_over_the_map_reads_exactly_what_whooshs_copy_reads(sample_index):
    mapped = everything_a_reader_sees(sample_index)
    with whoosh_compat.shipped():
        copied = everything_a_reader_sees(sample_index)
    assert mapped == copied
    assert len(mapped[1]) == 300


def segment_file_sizes(folder):
    """The size of each file inside the index's compound segments, by extension."""
    storage = FileStorage(str(folder))
    sizes = {}
    for segment in whoosh_index.open_dir(str(folder))._segments():
        compound = CompoundStorage(storage.open_file(segment.make_filename(".seg")))
        for name in compound.list():
            sizes[name.split(".", 1)[1]] = sizes.get(name.split(".", 1)[1], 0) + compound.range(name)[1]
    return sizes


def bytes_held_by_a_reader_after_reading(folder):
    """Memory still allocated by an open searcher after it walked a posting list and read every stored document."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with whoosh_index.open_dir(str(folder)).searcher() as searcher:
            postings = len(list(searcher.reader().postings("text", b"printer").all_ids()))
            documents = len(list(searcher.all_stored_fields()))
            held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held, (postings, documents)


def test_an_open_searcher_no_longer_holds_a_private_copy_of_postings_and_stored_fields(sample_index):
    sizes = segment_file_sizes(sample_index)
    bytes_held_by_a_reader_after_reading(sample_index)  # one-time costs (imports, caches) out of the way
    mapped_held, mapped_read = bytes_held_by_a_reader_after_reading(sample_index)
    with whoosh_compat.shipped():
        copied_held, copied_read = bytes_held_by_a_reader_after_reading(sample_index)
    assert mapped_read == copied_read
    assert copied_held > sizes["pst"] + sizes["_stored.col"]
    assert mapped_held < (sizes["pst"] + sizes["_stored.col"]) / 5


def test_sequential_reads_follow_the_position_across_pickles_longer_than_the_first_window():
    long_value = {"resolution": "restart the print spooler " * 100, "tags": list(range(200))}
    data = b"HEAD" + pickle.dumps((3, 7, 0.5), 2) + pickle.dumps(long_value, 2) + b"\x00\x00\x00\x2a"
    mapped = MappedFile(memoryview(data))
    assert mapped.read(4) == b"HEAD"
    assert mapped.read_pickle() == (3, 7, 0.5)
    assert mapped.read_pickle() == long_value
    assert mapped.read_int() == 42
    assert mapped.tell() == len(data)
    mapped.seek(0)
    assert mapped.read(2) == b"HE"
    assert mapped.get(2, 2) == b"AD"


def test_a_damaged_pickle_still_raises_instead_of_reading_past_the_end():
    mapped = MappedFile(memoryview(pickle.dumps("a long enough string " * 50, 2)[:-20]))
    with pytest.raises((EOFError, pickle.UnpicklingError)):
        mapped.read_pickle()


def test_lines_are_read_one_at_a_time_however_long():
    long_line = b"x" * 10_000 + b"\n"
    mapped = MappedFile(memoryview(b"first\n" + long_line + b"last"))
    assert list(mapped) == [b"first\n", long_line, b"last"]
    mapped.seek(0)
    assert mapped.readline(3) == b"fir"
