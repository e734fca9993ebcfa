"""The ``autograder`` command line."""

from __future__ import annotations

import click

from autograder import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="autograder")
def cli() -> None:
    """Grade neural-network assignments safely, locally and on Gradescope."""


def main() -> None:
    cli()
