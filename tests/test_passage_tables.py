"""From a passage vector to the calls that hold its text, through each segment's passage column (issue #16).

The index is the sample knowledge base three times over (every passage held by three calls), edited one commit at a
time: several segments and deleted calls, as on a server. Its passages are embedded with the real model.
"""

import hashlib
import importlib.util

import numpy as np
import pytest
from sample_kb import edited_knowledge_base

from engine.backlog import embed_waiting
from engine.passages import PassageTables, digest_prefix_keys, fixed_column_bytes, hex_prefix_keys
from engine.postings import PostingArrays, live_mask
from engine.semantic import SemanticStage

MODEL_PACKAGES = ("onnxruntime", "tokenizers")
needs_model = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in MODEL_PACKAGES),
    reason="the embedding model's packages are not installed: pip install -r requirements-dev.txt",
)
QUERIES = ("printer wont print", "the screen goes black", "cant get emails on phone", "vpn drops", "outlook crash")


class BeforeTheColumn(PassageTables):
    """The tables of an index written before the passage column: no segment has one."""

    def table(self, reader):
        return None


def test_a_digest_gives_the_same_key_as_raw_bytes_and_as_hex_characters():
    digests = [hashlib.sha256(str(number).encode()).digest() for number in range(500)]
    raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, 32)
    hex_text = np.frombuffer("".join(digest.hex() for digest in digests).encode(), dtype=np.uint8).reshape(-1, 64)
    assert hex_prefix_keys(hex_text).tolist() == digest_prefix_keys(raw).tolist()
    assert digest_prefix_keys(raw).tolist() == [int.from_bytes(digest[:8], "big") for digest in digests]


@pytest.fixture(scope="module")
def knowledge_base(tmp_path_factory):
    kb = edited_knowledge_base(tmp_path_factory.mktemp("passages"))
    yield kb
    kb.close()


@pytest.fixture(scope="module")
def searcher(knowledge_base):
    with knowledge_base.home.open_index().searcher() as opened:
        yield opened


def test_every_segment_holds_each_calls_passage_digest_in_its_column(searcher):
    leaves = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
    assert len(leaves) > 1
    assert any(reader.has_deletions() for reader in leaves)
    for reader in leaves:
        column = fixed_column_bytes(reader, "passage")
        assert column.shape == (reader.doc_count_all(), 64)
        stored = [reader.stored_fields(docnum)["passage"] for docnum in range(reader.doc_count_all())]
        assert [row.tobytes().decode() for row in column] == stored


@pytest.fixture(scope="module")
def stage(knowledge_base, searcher):
    stage = SemanticStage(knowledge_base.home.root, rerank=False)
    if stage.embedder() is None:
        pytest.skip("the embedding model could not be loaded")
    with stage.store().writing():
        embed_waiting(searcher, stage.store(), stage.embedder())
    return stage


@needs_model
def test_calls_found_by_meaning_are_the_same_through_the_column_as_through_the_passage_term(stage, searcher):
    before = SemanticStage(stage.index_root, rerank=False)
    before.use(stage.embedder())
    before.passages = BeforeTheColumn()
    postings = PostingArrays()
    compared = 0
    for text in QUERIES:
        vector = stage.query_vector(text)
        for filters in ({}, {"product": "Outlook"}, {"status": "resolved"}):
            for wanted in (1, 5, 15, 50):
                by_column = stage.dense_hits(searcher, postings, vector, filters, wanted)
                by_term = before.dense_hits(searcher, postings, vector, filters, wanted)
                assert [(similarity, docnum) for similarity, _, docnum in by_column] == [
                    (similarity, docnum) for similarity, _, docnum in by_term
                ]
                compared += len(by_column)
    assert compared > 500


@needs_model
def test_a_passage_held_by_several_calls_finds_every_live_one(stage, searcher):
    hits = stage.dense_hits(searcher, PostingArrays(), stage.query_vector("printer wont print"), {}, 50)
    by_digest = {}
    for _, stored, docnum in hits:
        by_digest.setdefault(stored["passage"], []).append(docnum)
    assert max(len(docnums) for docnums in by_digest.values()) == 3
    live = {}
    for leaf, offset in searcher.leaf_searchers():
        reader, mask = leaf.reader(), live_mask(leaf.reader())
        for docnum in range(reader.doc_count_all()):
            if mask is None or mask[docnum]:
                live.setdefault(reader.stored_fields(docnum)["passage"], []).append(offset + docnum)
    first = hits[0][1]["passage"]
    assert sorted(by_digest[first]) == sorted(live[first])
