"""A hit's stored fields (``engine.stored``): its id, passage digest and title terms from the index's columns, the
rest read when first asked for, and an index written before the columns existed read as before."""

import numpy as np
from sample_kb import edited_knowledge_base, indexed_knowledge_base, live_docnums, sample_records
from whoosh import fields
from whoosh.filedb.filestore import RamStorage

from analyzers.pipeline import text_pipeline
from engine.coverage import coverage
from engine.service import SearchService
from engine.sources import SynonymsFile
from engine.stored import HitFields, StoredFieldReader, problem_pairs_of, title_sequence_of, title_terms_of
from engine.vocabulary import VocabularyCache
from index import generations
from index.schema import call_schema, matches_call_schema, pair_key, pair_keys


def _knowledge_base(folder, copies=3):
    """The sample calls ``copies`` times over (equal texts, so equal scores), then edits in segments of their own."""
    return edited_knowledge_base(folder, copies=copies, edit_every=50)


def test_every_calls_id_from_the_column_is_its_stored_id_across_segments_and_edits(tmp_path):
    kb = _knowledge_base(tmp_path)
    try:
        with kb.home.open_index().searcher() as searcher:
            assert len(searcher.leaf_searchers()) > 1
            reader = StoredFieldReader(searcher)
            live = live_docnums(searcher)
            for docnum in live:
                hit = reader.fields(docnum)
                assert isinstance(hit, HitFields)
                assert hit["id"] == searcher.stored_fields(docnum)["id"]
                assert hit["passage"] == searcher.stored_fields(docnum)["passage"]
            assert dict(reader.fields(live[7])) == searcher.stored_fields(live[7])
    finally:
        kb.close()


def test_a_hits_other_fields_are_read_only_when_asked_for(tmp_path):
    kb = _knowledge_base(tmp_path, copies=1)
    try:
        with kb.home.open_index().searcher() as searcher:
            hit = StoredFieldReader(searcher).fields(3)
            assert hit._all is None
            assert hit["id"] and hit._all is None
            assert hit["passage"] and hit.get("passage") and hit._all is None
            assert hit.get("title") == searcher.stored_fields(3)["title"]
            assert hit._all is not None
    finally:
        kb.close()


def test_every_calls_title_terms_and_problem_pairs_come_from_the_columns_without_reading_its_record(tmp_path):
    kb = _knowledge_base(tmp_path, copies=2)
    try:
        with kb.home.open_index().searcher() as searcher:
            assert len(searcher.leaf_searchers()) > 1
            reader = StoredFieldReader(searcher)
            live = live_docnums(searcher)
            for docnum in live:
                hit = reader.fields(docnum)
                terms, sequence, pairs = title_terms_of(hit), title_sequence_of(hit), problem_pairs_of(hit)
                assert hit._all is None
                stored = searcher.stored_fields(docnum)
                assert sequence == text_pipeline().terms(stored["title"]), docnum
                assert terms == frozenset(sequence)
                assert pairs.tolist() == pair_keys(stored["problem"]).tolist(), docnum
    finally:
        kb.close()


def _earlier_schema():
    """Today's schema with the title and problem as an earlier version wrote them: stored only, no column."""
    schema = call_schema()
    for name in ("title", "problem"):
        schema.remove(name)
        schema.add(name, fields.STORED())
    return schema


def test_an_index_written_before_the_title_and_problem_columns_is_kept_and_holds_the_same(tmp_path, monkeypatch):
    records = sample_records()
    today = indexed_knowledge_base(tmp_path / "today", records)
    with monkeypatch.context() as patched:
        patched.setattr(generations, "call_schema", _earlier_schema)
        earlier = indexed_knowledge_base(tmp_path / "earlier", records)
    try:
        assert type(earlier.home.open_index().schema["title"]) is fields.STORED
        assert matches_call_schema(earlier.home.open_index().schema)
        for kb, with_column in ((today, True), (earlier, False)):
            with kb.home.open_index().searcher() as searcher:
                for name in ("title", "problem"):
                    columns = [bool(leaf.reader().has_column(name)) for leaf, _ in searcher.leaf_searchers()]
                    assert columns == [with_column]
        shares = {}
        for name, kb in (("today", today), ("earlier", earlier)):
            service = SearchService(kb.home, VocabularyCache(), SynonymsFile(), result_cache_size=0)
            opened = service.opened()
            docnums = list(range(opened.searcher.doc_count_all()))
            stored = [opened.fields.fields(docnum) for docnum in docnums]
            terms = {hit["id"]: title_terms_of(hit) for hit in stored}
            plan = service.plan("printer offline after windows update", opened)
            found = coverage(opened.searcher, opened.stats, service.postings, plan, docnums, stored)
            shares[name] = (terms, {hit["id"]: tuple(row) for hit, row in zip(stored, found.tolist())})
            service.close()
        assert shares["earlier"] == shares["today"]
        assert np.count_nonzero([row[1] for row in shares["today"][1].values()]) > 5
        assert np.count_nonzero([row[2] for row in shares["today"][1].values()]) > 5
    finally:
        today.close()
        earlier.close()


def test_an_index_without_the_id_column_gives_the_stored_fields_as_before():
    schema = fields.Schema(id=fields.ID(stored=True, unique=True), title=fields.STORED())
    index = RamStorage().create_index(schema)
    with index.writer() as writer:
        writer.add_document(id="OLD-1", title="Printer offline")
    with index.searcher() as searcher:
        found = StoredFieldReader(searcher).fields(0)
        assert type(found) is dict and found == {"id": "OLD-1", "title": "Printer offline"}


def test_equal_scores_past_the_page_edge_are_ordered_by_id(tmp_path):
    kb = _knowledge_base(tmp_path, copies=12)
    service = SearchService(kb.home)
    try:
        ids = [hit["id"] for hit in service.search("printer", limit=10).hits]
        scores = [hit["score"] for hit in service.search("printer", limit=10).hits]
        groups = {}
        for call_id, score in zip(ids, scores):
            groups.setdefault(score, []).append(call_id)
        assert len(ids) == 10 and any(len(group) > 1 for group in groups.values())
        assert all(group == sorted(group) for group in groups.values())
    finally:
        service.close()
        kb.close()


def test_a_problems_pair_keys_are_its_adjacent_terms_stop_words_left_out():
    keys = pair_keys("The printer is offline, again").tolist()
    assert keys == sorted({pair_key("printer", "offlin"), pair_key("offlin", "again")})
    assert pair_keys("").tolist() == [] and pair_keys("printer").tolist() == []
