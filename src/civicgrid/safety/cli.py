"""`civicgrid safety …`: feeds, the index rebuild, warnings and back-tests. Each part registers its own
commands (`register(cli)`) so that the parts stay in their files."""

from __future__ import annotations

import typer

safety_cli = typer.Typer(help="Safety index, feeds, warnings and back-tests", no_args_is_help=True)


def mount() -> typer.Typer:
    from civicgrid.safety import backtest_cli, feed_cli, index_cli, warning_cli

    for part in (feed_cli, index_cli, warning_cli, backtest_cli):
        part.register(safety_cli)
    return safety_cli
