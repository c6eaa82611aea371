"""`civicgrid safety …` commands: backtest."""

from __future__ import annotations

import typer


def register(cli: typer.Typer) -> None:
    """Add this part's commands to `civicgrid safety`."""
