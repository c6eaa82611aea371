"""Encryption at rest and blind indexes: round trips, the token layout, and every way a token can be wrong."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from civicgrid.config import Settings, random_secret
from civicgrid.core import crypto
from civicgrid.core.crypto import (
    NONCE_BYTES,
    TAG_BYTES,
    DecryptionError,
    Keyring,
    KeyringError,
    configure_keyring,
    encrypted_columns,
    get_keyring,
    register_encrypted,
    set_keyring,
    use_keyring,
)

ID = "340302199001011234"
CONTEXT = "person.id_number"


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.generate(["k1"])


def test_round_trip(keyring: Keyring) -> None:
    token = keyring.encrypt(ID, context=CONTEXT)
    assert keyring.decrypt(token, context=CONTEXT) == ID
    assert ID.encode() not in token


@given(value=st.text(max_size=200), context=st.text(min_size=1, max_size=40))
def test_any_text_round_trips(value: str, context: str) -> None:
    keyring = _PROPERTY_KEYRING
    assert keyring.decrypt(keyring.encrypt(value, context=context), context=context) == value


_PROPERTY_KEYRING = Keyring.generate(["k1"])


def test_token_layout(keyring: Keyring) -> None:
    token = keyring.encrypt(ID, context=CONTEXT)
    assert token[0] == 1  # version
    assert token[1] == 2  # key id length
    assert token[2:4] == b"k1"
    assert len(token) == 2 + 2 + NONCE_BYTES + len(ID) + TAG_BYTES
    assert Keyring.key_id_of(token) == "k1"
    assert keyring.header() == token[:4]


def test_nonces_are_fresh(keyring: Keyring) -> None:
    tokens = {keyring.encrypt(ID, context=CONTEXT) for _ in range(100)}
    assert len(tokens) == 100
    assert len({t[4 : 4 + NONCE_BYTES] for t in tokens}) == 100
    many = keyring.encrypt_many([ID] * 100, context=CONTEXT)
    assert len({t[4 : 4 + NONCE_BYTES] for t in many}) == 100


def test_wrong_context_is_refused_without_revealing_the_value(keyring: Keyring) -> None:
    token = keyring.encrypt(ID, context="person.id_number")
    with pytest.raises(DecryptionError) as excinfo:
        keyring.decrypt(token, context="person.phone")
    message = str(excinfo.value)
    assert "'person.phone'" in message
    assert "another field" in message
    assert ID not in message


@settings(max_examples=200)
@given(data=st.data())
def test_any_changed_byte_is_detected(data: st.DataObject) -> None:
    keyring = _PROPERTY_KEYRING
    token = keyring.encrypt(ID, context=CONTEXT)
    position = data.draw(st.integers(0, len(token) - 1))
    delta = data.draw(st.integers(1, 255))
    tampered = bytearray(token)
    tampered[position] ^= delta
    with pytest.raises(DecryptionError) as excinfo:
        keyring.decrypt(bytes(tampered), context=CONTEXT)
    assert ID not in str(excinfo.value)


@pytest.mark.parametrize("cut", [0, 1, 2, 3, 4, 10, 16, 30, -1])
def test_truncated_tokens_are_refused(keyring: Keyring, cut: int) -> None:
    token = keyring.encrypt(ID, context=CONTEXT)
    with pytest.raises(DecryptionError):
        keyring.decrypt(token[:cut], context=CONTEXT)


def test_appended_bytes_are_refused(keyring: Keyring) -> None:
    token = keyring.encrypt(ID, context=CONTEXT)
    with pytest.raises(DecryptionError):
        keyring.decrypt(token + b"\0", context=CONTEXT)


def test_a_tampered_tag_says_so(keyring: Keyring) -> None:
    token = bytearray(keyring.encrypt(ID, context=CONTEXT))
    token[-1] ^= 1
    with pytest.raises(DecryptionError, match="altered, damaged, or encrypted for another field"):
        keyring.decrypt(bytes(token), context=CONTEXT)


def test_unknown_key_id_is_named(keyring: Keyring) -> None:
    other = Keyring.generate(["k9"])
    with pytest.raises(DecryptionError) as excinfo:
        keyring.decrypt(other.encrypt(ID, context=CONTEXT), context=CONTEXT)
    assert "'k9'" in str(excinfo.value)
    assert "CIVICGRID_DATA_KEYS" in str(excinfo.value)


def test_same_key_id_with_another_key_is_refused(keyring: Keyring) -> None:
    impostor = Keyring.generate(["k1"])
    with pytest.raises(DecryptionError, match="altered, damaged"):
        keyring.decrypt(impostor.encrypt(ID, context=CONTEXT), context=CONTEXT)


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (b"\x02\x02k1" + bytes(40), "unknown token version 2"),
        (b"\x01\x05k1" + bytes(40), "malformed"),  # length byte runs into the nonce
        (b"\x01\x02\xff\xfe" + bytes(40), "malformed"),
        (b"\x01\x00" + bytes(40), "malformed"),
        (b"", "too short"),
    ],
)
def test_malformed_tokens_are_refused(keyring: Keyring, token: bytes, problem: str) -> None:
    with pytest.raises(DecryptionError, match=problem):
        keyring.decrypt(token, context=CONTEXT)


def test_non_bytes_are_refused(keyring: Keyring) -> None:
    with pytest.raises(DecryptionError, match="expected an encrypted token"):
        keyring.decrypt("not a token", context=CONTEXT)  # type: ignore[arg-type]


def test_rotation_keeps_old_tokens_readable() -> None:
    old = Keyring.generate(["k1"])
    token = old.encrypt(ID, context=CONTEXT)
    keys = {"k1": secrets.token_bytes(32), "k2": secrets.token_bytes(32)}
    index = secrets.token_bytes(32)
    k1 = Keyring(keys, "k1", index)
    k2 = Keyring(keys, "k2", index)
    token = k1.encrypt(ID, context=CONTEXT)
    assert k2.decrypt(token, context=CONTEXT) == ID
    assert k2.needs_rotation(token)
    assert not k1.needs_rotation(token)
    fresh = k2.reencrypt(token, context=CONTEXT)
    assert Keyring.key_id_of(fresh) == "k2"
    assert k2.reencrypt(fresh, context=CONTEXT) is fresh  # already under the active key
    assert k1.decrypt(fresh, context=CONTEXT) == ID
    assert k1.with_active("k2").header() == k2.header()
    with pytest.raises(KeyringError):
        k1.with_active("k3")


def test_many_helpers_agree_with_single_calls(keyring: Keyring) -> None:
    values = [f"34030219900101{i:04d}" for i in range(50)]
    tokens = keyring.encrypt_many(values, context=CONTEXT)
    assert keyring.decrypt_many(tokens, context=CONTEXT) == values
    assert keyring.encrypt_many(iter(values[:3]), context=CONTEXT)[0][:4] == keyring.header()
    assert keyring.blind_index_many(values, context=CONTEXT) == [
        keyring.blind_index(v, context=CONTEXT) for v in values
    ]
    assert keyring.encrypt_many([], context=CONTEXT) == []


def test_blind_index_is_keyed_hmac_of_context_and_value() -> None:
    index_key = secrets.token_bytes(32)
    keyring = Keyring({"k1": secrets.token_bytes(32)}, "k1", index_key)
    expected = hmac.new(index_key, b"person.id_number\0" + ID.encode(), hashlib.sha256).hexdigest()[:32]
    assert keyring.blind_index(ID, context=CONTEXT) == expected
    assert len(expected) == 32


def test_blind_index_properties() -> None:
    index_key = secrets.token_bytes(32)
    a = Keyring({"k1": secrets.token_bytes(32)}, "k1", index_key)
    b = Keyring({"k2": secrets.token_bytes(32)}, "k2", index_key)  # other data keys, same index key
    assert a.blind_index(ID, context=CONTEXT) == b.blind_index(ID, context=CONTEXT)  # survives data-key rotation
    assert a.blind_index(ID, context=CONTEXT) != a.blind_index(ID, context="person.phone")
    assert a.blind_index(ID, context=CONTEXT) != a.blind_index(ID[:-1] + "5", context=CONTEXT)
    assert a.blind_index(ID, context=CONTEXT) != Keyring.generate().blind_index(ID, context=CONTEXT)
    # The separator keeps context and value apart, and a context may not contain it.
    assert a.blind_index("bc", context="a") != a.blind_index("c", context="ab")
    with pytest.raises(ValueError, match="NUL"):
        a.blind_index("c", context="a\0b")


@pytest.mark.parametrize(
    ("keys", "active", "index_key", "problem"),
    [
        ({}, "k1", bytes(32), "at least one"),
        ({"k1": bytes(16)}, "k1", bytes(32), "16 bytes"),
        ({"k 1": bytes(32)}, "k 1", bytes(32), "invalid key id"),
        ({"k" * 33: bytes(32)}, "k" * 33, bytes(32), "invalid key id"),
        ({"é": bytes(32)}, "é", bytes(32), "invalid key id"),
        ({"k1": bytes(32)}, "k2", bytes(32), "active key id 'k2' is not among"),
        ({"k1": bytes(32)}, "k1", bytes(31), "index key is 31 bytes"),
    ],
)
def test_unusable_keys_are_refused(keys: dict[str, bytes], active: str, index_key: bytes, problem: str) -> None:
    with pytest.raises(KeyringError, match=problem):
        Keyring(keys, active, index_key)


def test_repr_shows_no_key(keyring: Keyring) -> None:
    assert repr(keyring) == "Keyring(key_ids=['k1'], active='k1')"


def test_from_settings() -> None:
    demo = Keyring.from_settings(Settings(mode="demo"))
    again = Keyring.from_settings(Settings(mode="demo"))
    token = demo.encrypt(ID, context=CONTEXT)
    assert again.decrypt(token, context=CONTEXT) == ID  # derived keys are stable: the demo database stays readable
    assert demo.active_key_id == "derived"
    other = Keyring.from_settings(Settings(mode="test", secret_key=random_secret()))
    with pytest.raises(DecryptionError):
        other.decrypt(token, context=CONTEXT)
    assert other.blind_index(ID, context=CONTEXT) != demo.blind_index(ID, context=CONTEXT)


def test_process_keyring_accessors() -> None:
    previous = crypto._keyring
    try:
        set_keyring(None)
        assert get_keyring() is get_keyring()  # built once from get_settings(), then cached
        installed = configure_keyring(Settings(mode="test", secret_key=random_secret()))
        assert get_keyring() is installed
        temporary = Keyring.generate()
        with use_keyring(temporary):
            assert get_keyring() is temporary
        assert get_keyring() is installed
    finally:
        set_keyring(previous)


# -- the registry of encrypted columns --------------------------------------------------------------------


class _Base(DeclarativeBase):
    pass


class _Thing(_Base):
    __tablename__ = "test_crypto_thing"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(10))
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    seq: Mapped[int] = mapped_column(Integer)


class _Coded(_Base):
    __tablename__ = "test_crypto_coded"
    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_registry", {})


@pytest.mark.usefixtures("registry")
def test_register_encrypted() -> None:
    register_encrypted(_Thing, "secret_enc", "thing.secret")
    register_encrypted(_Thing, "secret_enc", "thing.secret")  # importing twice is harmless
    (column,) = encrypted_columns()
    assert (column.name, column.context, column.pk, column.model) == (
        "test_crypto_thing.secret_enc",
        "thing.secret",
        "id",
        _Thing,
    )
    register_encrypted(_Thing, "code", "thing.code", pk="seq")
    assert [c.name for c in encrypted_columns()] == ["test_crypto_thing.code", "test_crypto_thing.secret_enc"]


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("model", "column", "context", "pk", "problem"),
    [
        (_Thing, "nope", "x", "id", "has no column 'nope'"),
        (_Thing, "secret_enc", "x", "nope", "has no column 'nope'"),
        (_Coded, "secret_enc", "x", "code", "must be an integer key"),
        (_Thing, "secret_enc", "", "id", "must not be empty"),
    ],
)
def test_register_encrypted_refuses_mistakes(model: type, column: str, context: str, pk: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        register_encrypted(model, column, context, pk=pk)


@pytest.mark.usefixtures("registry")
def test_a_column_has_one_context() -> None:
    register_encrypted(_Thing, "secret_enc", "thing.secret")
    with pytest.raises(ValueError, match=r"already registered with context .thing\.secret."):
        register_encrypted(_Thing, "secret_enc", "thing.other")
