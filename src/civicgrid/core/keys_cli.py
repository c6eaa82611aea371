"""`civicgrid keys …`: generate data keys, rotate stored values to the active key, show which key holds what.

The key values are printed on standard output only (to be put in the environment or .env); every
explanation goes to standard error, so `civicgrid keys generate >> .env` writes just the three lines.
"""

from __future__ import annotations

import base64
import secrets
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from civicgrid.config import DATA_KEY_BYTES, KEY_ID_PATTERN, Settings, get_settings
from civicgrid.core.clock import utcnow
from civicgrid.core.db import Database

keys_cli = typer.Typer(help="Encryption keys of personal data: generate, rotate, status", no_args_is_help=True)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)
out = Console(width=None if sys.stdout.isatty() else 140, highlight=False, soft_wrap=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        err.print(f"[red]refusing to start — invalid configuration:[/red] {exc}")
        raise typer.Exit(2) from exc


def _database(settings: Settings) -> Database:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.resolved_database_url)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _new_key_id(taken: set[str]) -> str:
    base = f"k{utcnow():%Y%m%d}"
    kid, n = base, 1
    while kid in taken:
        n += 1
        kid = f"{base}-{n}"
    return kid


@keys_cli.command("generate")
def generate(
    key_id: Annotated[str | None, typer.Option("--kid", help="id of the new key (default k<YYYYMMDD>)")] = None,
    add: Annotated[
        bool,
        typer.Option("--add", help="add a new active key to the configured ones (for rotation) instead of a fresh set"),
    ] = False,
) -> None:
    """Print new CIVICGRID_DATA_KEYS, CIVICGRID_DATA_KEY_ACTIVE and CIVICGRID_INDEX_KEY lines."""
    if add:
        material = _settings().data_key_material()
        keys = dict(material.keys)
        index_key = material.index_key
    else:
        material = None
        keys = {}
        index_key = secrets.token_bytes(DATA_KEY_BYTES)
    kid = key_id or _new_key_id(set(keys))
    if not KEY_ID_PATTERN.fullmatch(kid):
        err.print("[red]error:[/red] a key id is 1–32 letters, digits, '.', '_' or '-', starting with a letter/digit")
        raise typer.Exit(2)
    if kid in keys:
        err.print(f"[red]error:[/red] key id {kid!r} is already configured; choose another with --kid")
        raise typer.Exit(2)
    keys[kid] = secrets.token_bytes(DATA_KEY_BYTES)
    typer.echo(f"CIVICGRID_DATA_KEYS={','.join(f'{k}:{_b64(v)}' for k, v in keys.items())}")
    typer.echo(f"CIVICGRID_DATA_KEY_ACTIVE={kid}")
    typer.echo(f"CIVICGRID_INDEX_KEY={_b64(index_key)}")
    if material is None:
        err.print(
            "New keys above. Put them in the environment of every civicgrid process (or in .env, readable only "
            "by the service account), keep a copy in your secrets store — without them the encrypted personal "
            "data cannot be read — and never store them beside the database backups."
        )
    else:
        if material.derived:
            err.print(
                "The current keys were derived from CIVICGRID_SECRET_KEY (demo/test mode); they are listed above "
                "explicitly so the data already stored stays readable."
            )
        err.print(
            f"Key {kid!r} added and made active; the index key is unchanged. Roll these lines out to every "
            "process, then run `civicgrid keys rotate`; see docs/privacy.md for the whole procedure."
        )


@keys_cli.command("rotate")
def rotate_command(
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="rows per transaction")] = 5000,
) -> None:
    """Re-encrypt every stored value under the active key (resumable, safe while the platform runs)."""
    import civicgrid.models  # noqa: F401 - registers every encrypted column
    from civicgrid.core.crypto import Keyring, encrypted_columns
    from civicgrid.core.keys import RotationError, rotate

    settings = _settings()
    keyring = Keyring.from_settings(settings)
    if not encrypted_columns():
        err.print("no encrypted columns are registered; nothing to rotate")
        return
    database = _database(settings)
    err.print(f"re-encrypting under key {keyring.active_key_id!r} (keys known: {', '.join(keyring.key_ids)})")
    tasks: dict[str, TaskID] = {}
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )

    def advance(column: str, done: int, total: int) -> None:
        if column not in tasks:
            tasks[column] = progress.add_task(column, total=total)
        progress.update(tasks[column], completed=done, total=total)

    try:
        with progress:
            report = rotate(database, keyring, batch_size=batch_size, progress=advance)
    except RotationError as exc:
        err.print(f"[red]rotation stopped:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        database.dispose()
    table = Table(title=f"Rotation to key {report.target_key_id!r}")
    for name in ("column", "re-encrypted", "changed meanwhile", "note"):
        table.add_column(name)
    for column in report.columns:
        if column.verification:
            note = "already rotated; checked for stragglers"
        elif column.resumed_after is not None:
            note = f"resumed after id {column.resumed_after}"
        else:
            note = ""
        table.add_row(column.column, f"{column.reencrypted:,}", f"{column.skipped:,}", note)
    err.print(table)
    if report.skipped:
        err.print("Values changed while being rotated were left to their writer; run the rotation again to check.")


@keys_cli.command("status")
def status() -> None:
    """How many stored values each key encrypts, per column: retire a key once it counts 0 everywhere."""
    import civicgrid.models  # noqa: F401 - registers every encrypted column
    from civicgrid.core.crypto import Keyring
    from civicgrid.core.keys import key_usage

    settings = _settings()
    keyring = Keyring.from_settings(settings)
    database = _database(settings)
    try:
        usage = key_usage(database, keyring)
    finally:
        database.dispose()
    table = Table(title=f"Encrypted values by key (active: {keyring.active_key_id})")
    table.add_column("column")
    for kid in keyring.key_ids:
        table.add_column(kid + (" (active)" if kid == keyring.active_key_id else ""), justify="right")
    table.add_column("unknown key", justify="right")
    table.add_column("empty", justify="right")
    for column in usage:
        table.add_row(
            column.column,
            *(f"{column.by_key[kid]:,}" for kid in keyring.key_ids),
            f"{column.other:,}",
            f"{column.empty:,}",
        )
    out.print(table)
    if any(column.other for column in usage):
        err.print("[red]some values name a key that is not configured: unreadable until it is added back[/red]")
        raise typer.Exit(1)
