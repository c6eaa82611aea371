"""`python -m civicgrid` is the `civicgrid` command."""

from civicgrid.cli import app

app()
