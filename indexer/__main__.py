"""Run the command line: ``python -m indexer <command>``."""

from indexer.cli import cli

cli(prog_name="python -m indexer")
