"""Key rotation on a table of its own: complete, resumable after any interruption, safe with company."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import LargeBinary, MetaData, event, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from civicgrid.config import get_settings, random_secret
from civicgrid.core import crypto
from civicgrid.core.crypto import Keyring, encrypted_columns, register_encrypted
from civicgrid.core.db import NAMING_CONVENTION, Database
from civicgrid.core.keys import KeyRotation, RotationError, key_usage, pending, rotate


class _Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Secret(_Base):
    """A stand-in for the registry's tables: two encrypted columns, one sometimes empty."""

    __tablename__ = "test_keys_secret"
    id: Mapped[int] = mapped_column(primary_key=True)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)
    note_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


VALUE, NOTE = "secret.value", "secret.note"
ROWS = 1050


@pytest.fixture
def keys() -> dict[str, bytes]:
    import secrets

    return {kid: secrets.token_bytes(32) for kid in ("k0", "k1", "k2", "k3")}


@pytest.fixture
def index_key() -> bytes:
    import secrets

    return secrets.token_bytes(32)


def ring(keys: dict[str, bytes], index_key: bytes, active: str, *kids: str) -> Keyring:
    return Keyring({kid: keys[kid] for kid in (kids or keys)}, active, index_key)


@pytest.fixture
def table(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(crypto, "_registry", {})
    register_encrypted(Secret, "value_enc", VALUE)
    register_encrypted(Secret, "note_enc", NOTE)
    _Base.metadata.drop_all(db.engine)
    _Base.metadata.create_all(db.engine)
    yield
    _Base.metadata.drop_all(db.engine)


def _values(i: int) -> tuple[str, str | None]:
    return f"34030219900101{i:04d}", (None if i % 3 == 0 else f"note {i}")


def fill(db: Database, keyring: Keyring, rows: int = ROWS, start: int = 1) -> None:
    with db.unit_of_work() as session:
        for i in range(start, start + rows):
            value, note = _values(i)
            session.add(
                Secret(
                    id=i,
                    value_enc=keyring.encrypt(value, context=VALUE),
                    note_enc=None if note is None else keyring.encrypt(note, context=NOTE),
                )
            )


def stored(db: Database) -> list[tuple[int, bytes, bytes | None]]:
    with db.unit_of_work(write=False) as session:
        return [
            tuple(row)
            for row in session.execute(select(Secret.id, Secret.value_enc, Secret.note_enc).order_by(Secret.id))
        ]  # type: ignore[misc]


def assert_all_under(db: Database, keyring: Keyring, kid: str) -> None:
    rows = stored(db)
    assert len(rows) >= ROWS
    for pk, value, note in rows:
        expected_value, expected_note = _values(pk)
        assert Keyring.key_id_of(value) == kid
        assert keyring.decrypt(value, context=VALUE) == expected_value
        if expected_note is None:
            assert note is None
        else:
            assert note is not None and Keyring.key_id_of(note) == kid
            assert keyring.decrypt(note, context=NOTE) == expected_note


def checkpoints(db: Database) -> dict[str, KeyRotation]:
    with db.unit_of_work(write=False) as session:
        return {f"{c.column_name}@{c.target_key_id}": c for c in session.scalars(select(KeyRotation))}


class Updates:
    """Counts UPDATE statements on the test table (a no-op run must issue none)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self.engines = {db.engine, db.write_engine}
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE") and Secret.__tablename__ in statement:
            self.count += 1

    def close(self) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._seen)


pytestmark = pytest.mark.usefixtures("table")


def test_rotation_reencrypts_every_value(db: Database, keys: dict[str, bytes], index_key: bytes) -> None:
    fill(db, ring(keys, index_key, "k1"))
    new = ring(keys, index_key, "k2", "k1", "k2")
    notes = sum(1 for i in range(1, ROWS + 1) if _values(i)[1] is not None)
    assert pending(db, new, encrypted_columns()[1]) == ROWS
    seen: list[tuple[str, int, int]] = []
    report = rotate(db, new, batch_size=100, progress=lambda c, done, total: seen.append((c, done, total)))
    assert report.target_key_id == "k2"
    assert [(c.column, c.reencrypted, c.skipped, c.to_do) for c in report.columns] == [
        ("test_keys_secret.note_enc", notes, 0, notes),
        ("test_keys_secret.value_enc", ROWS, 0, ROWS),
    ]
    assert report.reencrypted == notes + ROWS
    assert_all_under(db, new, "k2")
    assert seen[0] == ("test_keys_secret.note_enc", 0, notes)
    assert seen[-1] == ("test_keys_secret.value_enc", ROWS, ROWS)
    done = checkpoints(db)
    assert done["test_keys_secret.value_enc@k2"].finished_at is not None
    assert done["test_keys_secret.value_enc@k2"].last_pk == ROWS
    assert done["test_keys_secret.value_enc@k2"].rows_done == ROWS
    # Blind indexes do not depend on the data key: nothing to recompute.
    assert new.blind_index("x", context=VALUE) == ring(keys, index_key, "k1").blind_index("x", context=VALUE)


def test_running_again_when_nothing_is_left_changes_nothing(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    fill(db, ring(keys, index_key, "k1"))
    new = ring(keys, index_key, "k2", "k1", "k2")
    rotate(db, new, batch_size=500)
    before, marks = stored(db), checkpoints(db)
    updates = Updates(db)
    try:
        report = rotate(db, new, batch_size=500)
    finally:
        updates.close()
    assert report.reencrypted == 0
    assert all(c.verification for c in report.columns)
    assert updates.count == 0
    assert stored(db) == before
    assert {k: (c.finished_at, c.last_pk) for k, c in checkpoints(db).items()} == {
        k: (c.finished_at, c.last_pk) for k, c in marks.items()
    }


def test_rotation_of_an_empty_table_finishes(db: Database, keys: dict[str, bytes], index_key: bytes) -> None:
    report = rotate(db, ring(keys, index_key, "k2"))
    assert report.reencrypted == 0
    assert all(c.finished_at is not None for c in checkpoints(db).values())


class Interrupted(Exception):
    pass


def test_interrupted_between_batches_resumes_where_it_stopped(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    fill(db, ring(keys, index_key, "k1"))
    new = ring(keys, index_key, "k2", "k1", "k2")
    value_column = [c for c in encrypted_columns() if c.column == "value_enc"]

    def stop_after_three_batches(_column: str, done: int, _total: int) -> None:
        if done >= 300:
            raise Interrupted

    with pytest.raises(Interrupted):
        rotate(db, new, batch_size=100, progress=stop_after_three_batches, columns=value_column)
    mark = checkpoints(db)["test_keys_secret.value_enc@k2"]
    assert mark.last_pk == 300 and mark.finished_at is None and mark.rows_done == 300
    kids = [Keyring.key_id_of(value) for _, value, _ in stored(db)]
    assert kids == ["k2"] * 300 + ["k1"] * (ROWS - 300)

    report = rotate(db, new, batch_size=100, columns=value_column)
    (column,) = report.columns
    assert column.resumed_after == 300
    assert column.reencrypted == ROWS - 300
    assert column.to_do == ROWS - 300
    assert [Keyring.key_id_of(value) for _, value, _ in stored(db)] == ["k2"] * ROWS
    assert checkpoints(db)["test_keys_secret.value_enc@k2"].rows_done == ROWS


class FailingKeyring(Keyring):
    """Fails on the n-th re-encryption, like a process killed in the middle of a batch."""

    __slots__ = ("calls", "fail_at")

    def __init__(self, keys: dict[str, bytes], active: str, index_key: bytes, fail_at: int) -> None:
        super().__init__(keys, active, index_key)
        self.calls = 0
        self.fail_at = fail_at

    def reencrypt(self, token: bytes, *, context: str) -> bytes:
        self.calls += 1
        if self.calls == self.fail_at:
            raise Interrupted
        return super().reencrypt(token, context=context)


def test_interrupted_inside_a_batch_leaves_that_batch_untouched(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    fill(db, ring(keys, index_key, "k1"))
    some = {kid: keys[kid] for kid in ("k1", "k2")}
    failing = FailingKeyring(some, "k2", index_key, fail_at=250)  # in the third batch of the first column
    with pytest.raises(Interrupted):
        rotate(db, failing, batch_size=100)
    mark = checkpoints(db)["test_keys_secret.note_enc@k2"]
    assert mark.finished_at is None
    rotated = [pk for pk, _, note in stored(db) if note is not None and Keyring.key_id_of(note) == "k2"]
    assert len(rotated) == 200  # two whole batches, nothing of the third
    assert mark.last_pk == rotated[-1]
    new = ring(keys, index_key, "k2", "k1", "k2")
    rotate(db, new, batch_size=100)
    assert_all_under(db, new, "k2")


def test_a_damaged_value_stops_the_run_with_its_row_and_the_run_resumes_once_fixed(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    old = ring(keys, index_key, "k1")
    fill(db, old)
    with db.unit_of_work() as session:
        session.execute(update(Secret).where(Secret.id == 777).values(value_enc=b"\x01\x02k1" + bytes(40)))
    new = ring(keys, index_key, "k2", "k1", "k2")
    with pytest.raises(RotationError) as excinfo:
        rotate(db, new, batch_size=100)
    message = str(excinfo.value)
    assert "test_keys_secret.value_enc of row id=777" in message
    assert "altered, damaged" in message
    assert "resumes here" in message
    assert checkpoints(db)["test_keys_secret.value_enc@k2"].last_pk == 700
    with db.unit_of_work() as session:  # the operator restores the value (e.g. from a backup)
        session.execute(
            update(Secret).where(Secret.id == 777).values(value_enc=old.encrypt(_values(777)[0], context=VALUE))
        )
    report = rotate(db, new, batch_size=100)
    assert report.columns[1].resumed_after == 700
    assert_all_under(db, new, "k2")


def test_a_value_under_a_key_not_configured_names_the_key(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    fill(db, ring(keys, index_key, "k1"), rows=10)
    fill(db, ring(keys, index_key, "k0"), rows=1, start=11)
    new = ring(keys, index_key, "k2", "k1", "k2")  # k0 was retired too early
    with pytest.raises(RotationError, match=r"encrypted with key 'k0'.*add that key to CIVICGRID_DATA_KEYS"):
        rotate(db, new, batch_size=100)


def test_stragglers_written_under_an_old_key_after_a_pass_are_caught(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    old = ring(keys, index_key, "k1")
    fill(db, old)
    new = ring(keys, index_key, "k2", "k1", "k2")
    rotate(db, new)
    with db.unit_of_work() as session:  # a server that still had k1 active updates row 5
        session.execute(update(Secret).where(Secret.id == 5).values(value_enc=old.encrypt("changed", context=VALUE)))
    fill(db, old, rows=1, start=ROWS + 1)  # … and adds a row
    report = rotate(db, new)
    value = report.columns[1]
    assert value.verification and value.reencrypted == 2
    with db.unit_of_work(write=False) as session:
        assert new.decrypt(session.get_one(Secret, 5).value_enc, context=VALUE) == "changed"
    assert {Keyring.key_id_of(v) for _, v, _ in stored(db)} == {"k2"}


def test_rotating_on_to_a_third_key(db: Database, keys: dict[str, bytes], index_key: bytes) -> None:
    fill(db, ring(keys, index_key, "k1"), rows=ROWS)
    rotate(db, ring(keys, index_key, "k2", "k1", "k2"), batch_size=300)
    fill(db, ring(keys, index_key, "k1"), rows=5, start=ROWS + 1)  # a late k1 writer
    third = ring(keys, index_key, "k3", "k1", "k2", "k3")
    report = rotate(db, third, batch_size=300)
    assert report.columns[1].reencrypted == ROWS + 5
    assert {Keyring.key_id_of(v) for _, v, _ in stored(db)} == {"k3"}
    assert set(checkpoints(db)) == {
        f"test_keys_secret.{c}@{k}" for c in ("value_enc", "note_enc") for k in ("k2", "k3")
    }


def test_key_usage_counts_values_per_key(db: Database, keys: dict[str, bytes], index_key: bytes) -> None:
    fill(db, ring(keys, index_key, "k1"), rows=30)
    fill(db, ring(keys, index_key, "k2"), rows=12, start=31)
    fill(db, ring(keys, index_key, "k0"), rows=3, start=43)
    usage = {u.column: u for u in key_usage(db, ring(keys, index_key, "k2", "k1", "k2"))}
    value = usage["test_keys_secret.value_enc"]
    assert value.by_key == {"k1": 30, "k2": 12} and value.other == 3 and value.empty == 0
    note = usage["test_keys_secret.note_enc"]
    assert note.empty == 15  # every third row has no note
    assert sum(note.by_key.values()) + note.other + note.empty == 45


def test_a_value_changed_while_its_batch_is_read_is_left_to_its_writer(
    db: Database, keys: dict[str, bytes], index_key: bytes
) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite's write lock keeps other writers out for the whole batch")
    fill(db, ring(keys, index_key, "k1"), rows=20)
    new_value = ring(keys, index_key, "k2", "k1", "k2").encrypt("written meanwhile", context=VALUE)
    writer = Database(db.url)

    class Meddling(Keyring):
        __slots__ = ()

        def reencrypt(self, token: bytes, *, context: str) -> bytes:
            out = super().reencrypt(token, context=context)
            if context == VALUE and not getattr(writer, "done", False):
                writer.done = True  # type: ignore[attr-defined]
                with writer.unit_of_work() as session:  # the application updates row 1 meanwhile
                    session.execute(update(Secret).where(Secret.id == 1).values(value_enc=new_value))
            return out

    meddling = Meddling({k: keys[k] for k in ("k1", "k2")}, "k2", index_key)
    try:
        report = rotate(db, meddling, batch_size=100)
    finally:
        writer.dispose()
    value = report.columns[1]
    assert (value.reencrypted, value.skipped) == (19, 1)
    assert stored(db)[0][1] == new_value  # the application's write survived


@pytest.mark.parametrize("workers", [2, 3])
def test_rotations_running_at_once_take_turns(
    db: Database, keys: dict[str, bytes], index_key: bytes, workers: int
) -> None:
    fill(db, ring(keys, index_key, "k1"))
    new = ring(keys, index_key, "k2", "k1", "k2")
    reports: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def run() -> None:
        process_db = Database(db.url)  # a process of its own: its own engine and connections
        try:
            start.wait()
            reports.append(rotate(process_db, new, batch_size=50))
        except BaseException as exc:
            errors.append(exc)
        finally:
            process_db.dispose()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(reports) == workers
    assert_all_under(db, new, "k2")
    # Batches were shared out, not repeated: every row was re-encrypted exactly once in all.
    value_total = sum(r.columns[1].reencrypted for r in reports)
    assert value_total == ROWS
    assert sum(r.columns[1].skipped for r in reports) == 0
    assert checkpoints(db)["test_keys_secret.value_enc@k2"].rows_done == ROWS


def test_batch_size_must_be_positive(db: Database, keys: dict[str, bytes], index_key: bytes) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        rotate(db, ring(keys, index_key, "k2"), batch_size=0)


# -- the command line ------------------------------------------------------------------------------------


def _env(monkeypatch: pytest.MonkeyPatch, db: Database, keys: dict[str, bytes], index_key: bytes, *kids: str) -> None:
    monkeypatch.setenv("CIVICGRID_MODE", "test")
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", random_secret())
    monkeypatch.setenv("CIVICGRID_DATABASE_URL", db.url)
    monkeypatch.setenv("CIVICGRID_DATA_KEYS", ",".join(f"{k}:{base64.b64encode(keys[k]).decode()}" for k in kids))
    monkeypatch.setenv("CIVICGRID_DATA_KEY_ACTIVE", kids[-1])
    monkeypatch.setenv("CIVICGRID_INDEX_KEY", base64.b64encode(index_key).decode())
    get_settings.cache_clear()


@pytest.fixture
def cli_env() -> Iterator[None]:
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_cli_rotate_and_status(
    db: Database, keys: dict[str, bytes], index_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from civicgrid.core.keys_cli import keys_cli

    fill(db, ring(keys, index_key, "k1"), rows=120)
    _env(monkeypatch, db, keys, index_key, "k1", "k2")
    result = CliRunner().invoke(keys_cli, ["status"])
    assert result.exit_code == 0, result.output
    assert "test_keys_secret.value_enc" in result.output and "120" in result.output
    result = CliRunner().invoke(keys_cli, ["rotate", "--batch-size", "50"])
    assert result.exit_code == 0, result.output
    assert "Rotation to key 'k2'" in result.output
    assert {Keyring.key_id_of(v) for _, v, _ in stored(db)} == {"k2"}
    result = CliRunner().invoke(keys_cli, ["rotate"])
    assert "already rotated; checked for stragglers" in result.output
    _env(monkeypatch, db, keys, index_key, "k2")  # nothing names k1 any more: it can be retired
    assert CliRunner().invoke(keys_cli, ["status"]).exit_code == 0


@pytest.mark.usefixtures("cli_env")
def test_cli_rotate_reports_a_missing_key(
    db: Database, keys: dict[str, bytes], index_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from civicgrid.core.keys_cli import keys_cli

    fill(db, ring(keys, index_key, "k1"), rows=5)
    _env(monkeypatch, db, keys, index_key, "k2", "k3")  # k1 dropped before rotating
    result = CliRunner().invoke(keys_cli, ["rotate"])
    assert result.exit_code == 1
    assert "rotation stopped" in result.output and "'k1'" in result.output
    status = CliRunner().invoke(keys_cli, ["status"])
    assert status.exit_code == 1
    assert "unreadable until it is added back" in status.output


@pytest.mark.usefixtures("cli_env")
def test_cli_generate_prints_a_working_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from civicgrid.config import Settings
    from civicgrid.core.keys_cli import keys_cli

    monkeypatch.setenv("CIVICGRID_MODE", "production")  # generate works even while the keys are missing
    for name in ("DATA_KEYS", "DATA_KEY_ACTIVE", "INDEX_KEY"):
        monkeypatch.delenv(f"CIVICGRID_{name}", raising=False)
    result = CliRunner().invoke(keys_cli, ["generate", "--kid", "first"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("CIVICGRID_"))
    assert set(lines) == {"CIVICGRID_DATA_KEYS", "CIVICGRID_DATA_KEY_ACTIVE", "CIVICGRID_INDEX_KEY"}
    assert lines["CIVICGRID_DATA_KEY_ACTIVE"] == "first"
    for name, value in lines.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CIVICGRID_SECRET_KEY", random_secret())
    first = Settings().data_key_material()
    assert list(first.keys) == ["first"] and not first.derived

    get_settings.cache_clear()
    added = CliRunner().invoke(keys_cli, ["generate", "--add"])
    assert added.exit_code == 0, added.output
    new_lines = dict(line.split("=", 1) for line in added.stdout.splitlines() if line.startswith("CIVICGRID_"))
    assert new_lines["CIVICGRID_INDEX_KEY"] == lines["CIVICGRID_INDEX_KEY"]  # blind indexes stay valid
    assert new_lines["CIVICGRID_DATA_KEYS"].startswith(lines["CIVICGRID_DATA_KEYS"] + ",")
    for name, value in new_lines.items():
        monkeypatch.setenv(name, value)
    second = Settings().data_key_material()
    assert next(iter(second.keys)) == "first" and second.active != "first"
    assert second.keys["first"] == first.keys["first"]

    again = CliRunner().invoke(keys_cli, ["generate", "--add", "--kid", "first"])
    assert again.exit_code == 2 and "already configured" in again.output
    bad = CliRunner().invoke(keys_cli, ["generate", "--kid", "no spaces"])
    assert bad.exit_code == 2
