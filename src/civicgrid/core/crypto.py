"""Encryption of personal data at rest (AES-256-GCM) and blind indexes (HMAC-SHA256).

Token layout (one `bytes` value, stored as-is in a LargeBinary column)::

    offset  size  content
    0       1     version, 0x01
    1       1     n = length of the key id (1–32)
    2       n     key id, ASCII (e.g. b"k20261129")
    2+n     12    nonce, random for every value
    14+n    ...   AES-256-GCM ciphertext of the UTF-8 plaintext, followed by its 16-byte tag

The associated data is the *context* — what the value is, e.g. "person.id_number" — so a token copied
into another column does not decrypt there. It does not bind the row: a token moved to another row of
the same column still decrypts (the row's blind index would have to move with it).

The key id travels inside the token, so keys rotate: the keyring holds every key still in use,
encrypts with the active one and decrypts with whichever the token names; `core.keys.rotate`
re-encrypts old tokens in the background. A token is 30 bytes plus the key id plus the UTF-8 plaintext:
an 18-character ID number under key id "k20261129" takes 57 bytes.

A *blind index* is HMAC-SHA256(index key, context + "\\0" + value), cut to 128 bits (32 hex characters):
the same value in the same context always gives the same index, so an exact lookup ("who has this ID
number?") is an indexed equality query without decrypting anything. It reveals equality (two rows with
the same index hold the same value) and nothing else to someone without the index key. The caller
normalises the value first (`core.idnumber.normalise_id_number`, `normalise_phone`).

Columns that hold tokens are registered with `register_encrypted` when their model is imported, so key
rotation can find every one of them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Integer, Table, inspect

from civicgrid.config import DATA_KEY_BYTES, KEY_ID_PATTERN

if TYPE_CHECKING:
    from civicgrid.config import Settings

TOKEN_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_HEX_CHARS = 32


class DecryptionError(Exception):
    """A token could not be decrypted: unknown key id, damaged or tampered with, or another context.

    The message says which, and never contains the plaintext or key material.
    """


class KeyringError(ValueError):
    """The keys given to a Keyring are unusable (wrong length, bad key id, active key missing)."""


def _check_key_id(kid: str) -> None:
    if not KEY_ID_PATTERN.fullmatch(kid):
        raise KeyringError(
            f"invalid key id {kid!r}: use 1–32 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )


class Keyring:
    """The data keys by key id, the active key id and the blind-index key.

    One AESGCM object per key and one keyed HMAC state per context are built once and reused, so a value
    costs a few microseconds. Thread-safe: nothing is mutated after construction except the HMAC-state
    cache (dict assignment, idempotent).
    """

    __slots__ = (
        "_active",
        "_active_aead",
        "_active_header",
        "_aead",
        "_by_header",
        "_headers",
        "_index_key",
        "_index_states",
    )

    def __init__(self, keys: Mapping[str, bytes], active: str, index_key: bytes) -> None:
        if not keys:
            raise KeyringError("a keyring needs at least one data key")
        for kid, key in keys.items():
            _check_key_id(kid)
            if len(key) != DATA_KEY_BYTES:
                raise KeyringError(f"data key {kid!r} is {len(key)} bytes; AES-256 keys are {DATA_KEY_BYTES} bytes")
        if active not in keys:
            raise KeyringError(f"the active key id {active!r} is not among the keys ({', '.join(keys)})")
        if len(index_key) != DATA_KEY_BYTES:
            raise KeyringError(f"the index key is {len(index_key)} bytes; it must be {DATA_KEY_BYTES} bytes")
        self._aead = {kid: AESGCM(key) for kid, key in keys.items()}
        self._headers = {kid: bytes((TOKEN_VERSION, len(kid))) + kid.encode("ascii") for kid in keys}
        self._by_header = {self._headers[kid]: aead for kid, aead in self._aead.items()}
        self._active = active
        self._active_aead = self._aead[active]
        self._active_header = self._headers[active]
        self._index_key = index_key
        self._index_states: dict[str, Any] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring:
        material = settings.data_key_material()
        return cls(material.keys, material.active, material.index_key)

    @classmethod
    def generate(cls, key_ids: Iterable[str] = ("k1",), *, active: str | None = None) -> Keyring:
        """A keyring of fresh random keys (tests, benchmarks); the active key is the last id unless given."""
        kids = list(key_ids)
        keys = {kid: secrets.token_bytes(DATA_KEY_BYTES) for kid in kids}
        return cls(keys, active or kids[-1], secrets.token_bytes(DATA_KEY_BYTES))

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._aead)

    def header(self, key_id: str | None = None) -> bytes:
        """The first bytes of every token made with that key (default: the active one)."""
        return self._active_header if key_id is None else self._headers[key_id]

    def with_active(self, key_id: str) -> Keyring:
        """The same keys with another active key id."""
        keyring = object.__new__(Keyring)
        for slot in Keyring.__slots__:
            setattr(keyring, slot, getattr(self, slot))
        if key_id not in self._aead:
            raise KeyringError(f"the active key id {key_id!r} is not among the keys ({', '.join(self._aead)})")
        keyring._active = key_id
        keyring._active_aead = self._aead[key_id]
        keyring._active_header = self._headers[key_id]
        keyring._index_states = {}
        return keyring

    # -- encryption ------------------------------------------------------------------------------------

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return (
            self._active_header
            + nonce
            + self._active_aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        )

    def encrypt_many(self, plaintexts: Iterable[str], *, context: str) -> list[bytes]:
        """`encrypt` for many values in one context (one system call for all the nonces)."""
        values = plaintexts if isinstance(plaintexts, list | tuple) else list(plaintexts)
        nonces = os.urandom(NONCE_BYTES * len(values))
        aad = context.encode("utf-8")
        header = self._active_header
        encrypt = self._active_aead.encrypt
        out = []
        for i, value in enumerate(values):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(header + nonce + encrypt(nonce, value.encode("utf-8"), aad))
        return out

    def decrypt(self, token: bytes, *, context: str) -> str:
        aead, body_start = self._split(token)
        nonce = token[body_start : body_start + NONCE_BYTES]
        try:
            plain = aead.decrypt(nonce, token[body_start + NONCE_BYTES :], context.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                f"the value does not decrypt in context {context!r} with key {self.key_id_of(token)!r}: it was "
                "altered, damaged, or encrypted for another field"
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:  # pragma: no cover - authenticated, so only if encrypted bytes were not text
            raise DecryptionError("the decrypted value is not UTF-8 text") from None

    def decrypt_many(self, tokens: Iterable[bytes], *, context: str) -> list[str]:
        return [self.decrypt(token, context=context) for token in tokens]

    def reencrypt(self, token: bytes, *, context: str) -> bytes:
        """The value under the active key (the same token when it already is)."""
        if token.startswith(self._active_header):
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    def needs_rotation(self, token: bytes) -> bool:
        return not token.startswith(self._active_header)

    def _split(self, token: bytes) -> tuple[AESGCM, int]:
        if isinstance(token, bytes) and len(token) >= 2:  # fast path: a known key's header, looked up as bytes
            body_start = 2 + token[1]
            aead = self._by_header.get(token[:body_start])
            if aead is not None and len(token) >= body_start + NONCE_BYTES + TAG_BYTES:
                return aead, body_start
        kid = self.key_id_of(token)
        aead = self._aead.get(kid)
        if aead is None:
            raise DecryptionError(
                f"the value is encrypted with key {kid!r}, which is not in this keyring "
                f"({', '.join(self._aead)}); add that key to CIVICGRID_DATA_KEYS to read it"
            )
        body_start = 2 + len(kid)
        if len(token) < body_start + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("the value is too short to be an encrypted token (truncated or damaged)")
        return aead, body_start

    @staticmethod
    def key_id_of(token: bytes) -> str:
        """The key id a token names; DecryptionError when the bytes are not a token of a known version."""
        if not isinstance(token, bytes):
            raise DecryptionError(f"expected an encrypted token (bytes), got {type(token).__name__}")
        if len(token) < 3:
            raise DecryptionError("the value is too short to be an encrypted token (truncated or damaged)")
        if token[0] != TOKEN_VERSION:
            raise DecryptionError(
                f"unknown token version {token[0]} (this software reads version {TOKEN_VERSION}); "
                "the value is damaged or was written by a newer release"
            )
        length = token[1]
        raw = token[2 : 2 + length]
        try:
            kid = raw.decode("ascii")
        except UnicodeDecodeError:
            kid = ""
        if len(raw) != length or not KEY_ID_PATTERN.fullmatch(kid):
            raise DecryptionError("the token's key id is malformed (the value is damaged)")
        return kid

    # -- blind indexes ---------------------------------------------------------------------------------

    def _index_state(self, context: str) -> Any:
        state = self._index_states.get(context)
        if state is None:
            if "\0" in context:
                raise ValueError("a blind-index context must not contain NUL (it separates context from value)")
            state = hmac.new(self._index_key, context.encode("utf-8") + b"\0", hashlib.sha256)
            self._index_states[context] = state
        return state

    def blind_index(self, value: str, *, context: str) -> str:
        """HMAC-SHA256(index key, context + "\\0" + value) as 32 hex characters; normalise `value` first."""
        mac = self._index_state(context).copy()
        mac.update(value.encode("utf-8"))
        return str(mac.hexdigest()[:INDEX_HEX_CHARS])

    def blind_index_many(self, values: Iterable[str], *, context: str) -> list[str]:
        state = self._index_state(context)
        out = []
        for value in values:
            mac = state.copy()
            mac.update(value.encode("utf-8"))
            out.append(mac.hexdigest()[:INDEX_HEX_CHARS])
        return out

    def __repr__(self) -> str:  # never the keys
        return f"Keyring(key_ids={list(self._aead)}, active={self._active!r})"


# -- the registry of encrypted columns -------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """A column holding tokens: its model, table, column name, encryption context and integer primary key."""

    model: type
    table: Table
    column: str
    context: str
    pk: str

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"


_registry: dict[str, EncryptedColumn] = {}


def register_encrypted(model: type, column: str, context: str, *, pk: str = "id") -> None:
    """Declare that `model.column` holds tokens encrypted in `context`; call it where the model is defined.

    Registering the same column again with the same context is harmless; with another context it is an
    error (the stored tokens would no longer decrypt).
    """
    table: object = inspect(model).local_table
    if not isinstance(table, Table):  # pragma: no cover - mapped to a select or join
        raise TypeError(f"{model.__name__} is not mapped to a table")
    if column not in table.c:
        raise ValueError(f"{table.name} has no column {column!r}")
    if pk not in table.c:
        raise ValueError(f"{table.name} has no column {pk!r} (the primary key to walk the table by)")
    if not isinstance(table.c[pk].type, Integer):
        raise ValueError(f"{table.name}.{pk} must be an integer key for key rotation to walk the table in order")
    if not context:
        raise ValueError("the encryption context must not be empty")
    entry = EncryptedColumn(model=model, table=table, column=column, context=context, pk=pk)
    existing = _registry.get(entry.name)
    if existing is not None and (existing.context, existing.pk) != (context, pk):
        raise ValueError(
            f"{entry.name} is already registered with context {existing.context!r}; a column has one encryption context"
        )
    _registry[entry.name] = entry


def encrypted_columns() -> tuple[EncryptedColumn, ...]:
    """Every registered encrypted column, by table and column name (import civicgrid.models first)."""
    return tuple(_registry[name] for name in sorted(_registry))


# -- the process-wide keyring ----------------------------------------------------------------------------

_keyring: Keyring | None = None


def get_keyring() -> Keyring:
    """The keyring services use: the one installed by `set_keyring` (create_app does), else from settings."""
    global _keyring
    if _keyring is None:
        from civicgrid.config import get_settings

        _keyring = Keyring.from_settings(get_settings())
    return _keyring


def set_keyring(keyring: Keyring | None) -> None:
    """Install the process's keyring (None: build it from the settings on next use)."""
    global _keyring
    _keyring = keyring


def configure_keyring(settings: Settings) -> Keyring:
    """Build the keyring from these settings and install it; returns it (for `app.state.keyring`)."""
    keyring = Keyring.from_settings(settings)
    set_keyring(keyring)
    return keyring


@contextmanager
def use_keyring(keyring: Keyring) -> Iterator[Keyring]:
    """Install a keyring for the duration of a block (tests), then put the previous one back."""
    global _keyring
    previous = _keyring
    _keyring = keyring
    try:
        yield keyring
    finally:
        _keyring = previous
