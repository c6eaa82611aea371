"""Settings from CIVICGRID_* environment variables and an optional .env file.

Outside demo mode the secrets must be set and strong: a platform that stores personal data must not
start with a key anyone can read in this repository. The data keys (encryption of ID numbers and phones
at rest, blind indexes) must be set explicitly in production; demo and test mode derive any that are
unset from the secret key, so `make demo` needs no setup.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "civicgrid-demo-secret-do-not-use-in-production"  # noqa: S105 - the known value we refuse
MIN_SECRET_LENGTH = 32
DATA_KEY_BYTES = 32  # AES-256 and HMAC-SHA256 keys
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
DERIVED_KEY_ID = "derived"
_KEYS_HINT = "`civicgrid keys generate` prints a new set (see docs/privacy.md)"


class UnsafeConfigError(ValueError):
    """The configuration would run the platform insecurely."""


class Settings(BaseSettings):
    # hide_input_in_errors: a refusal must not print the secrets it was given (pydantic quotes the input).
    model_config = SettingsConfigDict(
        env_prefix="CIVICGRID_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    mode: Literal["demo", "production", "test"] = "demo"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = DEMO_SECRET
    timezone: str = "Asia/Shanghai"
    map_style_url: str | None = None
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # Login attempts one client address may make per minute (per server process).
    login_rate_per_minute: int = Field(default=30, ge=1, le=100_000)
    # Residents' reports, photos, +1s and ratings without an account (/api/v1/public/cases): requests of each
    # kind one client address may send per minute (per server process).
    public_rate_per_minute: int = Field(default=20, ge=1, le=100_000)
    log_level: str = "INFO"
    serve_frontend: bool = True
    # Registry imports: uploads larger than this are refused while streaming (413); rows per batch.
    import_max_bytes: int = Field(default=2 * 1024**3, ge=1)
    import_batch_size: int = Field(default=2000, ge=1, le=100_000)
    # Cases: a new report of the same category this near an open case, this recent, is offered as the same problem.
    case_duplicate_metres: float = Field(default=100.0, ge=0, le=5000)
    case_duplicate_hours: float = Field(default=72.0, ge=0, le=24 * 90)
    # Open311 GeoReport v2 (/open311/v2/, docs/open311.md): the discovery document's contact and key service, and
    # the category classes never published through its unauthenticated GET (01 矛盾纠纷, 02 治安隐患).
    open311_contact: str = "蚌埠市综治中心 (the city's comprehensive-governance centre)"
    open311_key_service: str = (
        "API keys are issued by the platform's administrators (role resident); see docs/open311.md"
    )
    open311_hidden_classes: list[str] = Field(default_factory=lambda: ["01", "02"])
    # Write requests (POST/PUT/PATCH/DELETE) let into the thread pool at once per process; the rest wait
    # in the event loop (core/writegate.py: more would let lock waiters starve the lock holder of threads).
    write_concurrency: int = Field(default=8, ge=1, le=32)
    # Background jobs (imports) run on this many threads per server process.
    job_workers: int = Field(default=2, ge=1, le=32)
    # Periodic tasks (the SLA scan) run inside the server processes; unset means on, except in test mode.
    scheduler_enabled: bool | None = None
    # The command wall's figures (overview, trend, rankings) are kept this many seconds for the viewers who
    # see the same; unset means 15, except in test mode (0: computed every time).
    figures_cache_seconds: float | None = Field(default=None, ge=0, le=3600)
    # How often open cases are scanned for overdue deadlines (yellow and red supervision cards).
    sla_scan_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    # Case photos: the largest accepted image; where files are kept ("local": <data_dir>/files; "s3": a
    # bucket of any S3-compatible store — MinIO, Ceph, OSS — addressed path-style).
    attachment_max_bytes: int = Field(default=10 * 1024**2, ge=1)
    file_store: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_region: str | None = None
    # Encryption of personal data at rest: `kid:base64key,kid:base64key` (32-byte keys), the kid new values
    # are encrypted with, and the HMAC key of the blind indexes (base64, 32 bytes).
    data_keys: SecretStr | None = None
    data_key_active: str | None = None
    index_key: SecretStr | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
        return value

    @field_validator("open311_hidden_classes")
    @classmethod
    def _class_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not (len(code) == 2 and code.isdigit())]
        if bad:
            raise ValueError(f"open311_hidden_classes takes 2-digit category classes, not {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _safe_outside_demo(self) -> Settings:
        if self.mode != "demo":
            problem = weak_secret_reason(self.secret_key)
            if problem:
                raise UnsafeConfigError(
                    f"CIVICGRID_SECRET_KEY {problem}. Outside demo mode set it to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters, e.g. `python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'`."
                )
        self.data_key_material()  # refuses missing or malformed keys
        if self.file_store == "s3" and not self.s3_bucket:
            raise ValueError(
                "CIVICGRID_FILE_STORE is s3 but CIVICGRID_S3_BUCKET is not set; name the bucket (and set "
                "CIVICGRID_S3_ENDPOINT_URL for a store other than AWS)"
            )
        return self

    def data_key_material(self) -> DataKeyMaterial:
        """The data keys, the active key id and the index key, decoded and checked.

        Raises UnsafeConfigError, naming the variable and what is wrong but never a key's value. Outside
        production, unset values are derived from the secret key (HKDF-SHA256).
        """
        keys_text = _secret_text(self.data_keys)
        active = (self.data_key_active or "").strip()
        index_text = _secret_text(self.index_key)
        if self.mode == "production":
            missing = [
                name
                for name, value in (
                    ("CIVICGRID_DATA_KEYS", keys_text),
                    ("CIVICGRID_DATA_KEY_ACTIVE", active),
                    ("CIVICGRID_INDEX_KEY", index_text),
                )
                if not value
            ]
            if missing:
                raise UnsafeConfigError(
                    f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. In production "
                    "personal data is encrypted with keys you provide: set CIVICGRID_DATA_KEYS, "
                    f"CIVICGRID_DATA_KEY_ACTIVE and CIVICGRID_INDEX_KEY — {_KEYS_HINT}."
                )
        derived = False
        if keys_text or active:
            if not keys_text:
                raise UnsafeConfigError(
                    f"CIVICGRID_DATA_KEY_ACTIVE is set but CIVICGRID_DATA_KEYS is not; set both — {_KEYS_HINT}."
                )
            if not active:
                raise UnsafeConfigError(
                    "CIVICGRID_DATA_KEYS is set but CIVICGRID_DATA_KEY_ACTIVE is not; set it to the key id that "
                    f"encrypts new values — {_KEYS_HINT}."
                )
            keys = parse_data_keys(keys_text)
            if active not in keys:
                raise UnsafeConfigError(
                    f"CIVICGRID_DATA_KEY_ACTIVE {active!r} is not one of the key ids in CIVICGRID_DATA_KEYS "
                    f"({', '.join(keys)}); add that key or choose one of these."
                )
        else:
            keys = {DERIVED_KEY_ID: _derive(self.secret_key, b"civicgrid data key v1")}
            active = DERIVED_KEY_ID
            derived = True
        if index_text:
            index_key = decode_key(index_text, "CIVICGRID_INDEX_KEY")
        else:
            index_key = _derive(self.secret_key, b"civicgrid blind index key v1")
            derived = True
        if any(index_key == key for key in keys.values()):
            raise UnsafeConfigError(
                f"CIVICGRID_INDEX_KEY must differ from every key in CIVICGRID_DATA_KEYS — {_KEYS_HINT}."
            )
        return DataKeyMaterial(keys=keys, active=active, index_key=index_key, derived=derived)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'civicgrid.db').as_posix()}"

    @property
    def runs_scheduler(self) -> bool:
        """Whether server processes run the periodic tasks (`scheduler_enabled`, default: not in test mode)."""
        return self.scheduler_enabled if self.scheduler_enabled is not None else self.mode != "test"

    @property
    def figures_ttl(self) -> float:
        """Seconds the command wall's figures are kept (`figures_cache_seconds`; default 15, 0 in test mode)."""
        if self.figures_cache_seconds is not None:
            return self.figures_cache_seconds
        return 0.0 if self.mode == "test" else 15.0

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def weak_secret_reason(secret: str) -> str | None:
    """Why a secret is unsafe, or None when it is acceptable."""
    if secret == DEMO_SECRET:
        return "is the published demo value"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) < 10:
        return "repeats too few distinct characters"
    return None


@dataclass(frozen=True)
class DataKeyMaterial:
    """Decoded data keys by key id, the active key id, the blind-index key; `derived` if any came from HKDF."""

    keys: Mapping[str, bytes]
    active: str
    index_key: bytes
    derived: bool


def _secret_text(value: SecretStr | None) -> str:
    return value.get_secret_value().strip() if value is not None else ""


def _derive(secret_key: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=DATA_KEY_BYTES, salt=b"civicgrid", info=info).derive(
        secret_key.encode("utf-8")
    )


def decode_key(text: str, what: str) -> bytes:
    """A base64 (standard or URL-safe alphabet) 32-byte key; UnsafeConfigError naming `what` otherwise."""
    try:
        key = base64.b64decode(text.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UnsafeConfigError(f"{what} is not valid base64 — {_KEYS_HINT}.") from exc
    if len(key) != DATA_KEY_BYTES:
        raise UnsafeConfigError(
            f"{what} is {len(key)} bytes long; keys must be exactly {DATA_KEY_BYTES} bytes (256 bits), "
            f"base64-encoded — {_KEYS_HINT}."
        )
    return key


def parse_data_keys(text: str) -> dict[str, bytes]:
    """`kid:base64key,kid:base64key` → {kid: key}; UnsafeConfigError (never quoting a key) when malformed."""
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(text.split(","), 1):
        kid, colon, encoded = entry.strip().partition(":")
        kid = kid.strip()
        if not colon or not encoded.strip():
            raise UnsafeConfigError(
                f"CIVICGRID_DATA_KEYS entry {position} is not of the form key-id:base64-key "
                f"(entries are separated by commas) — {_KEYS_HINT}."
            )
        if not KEY_ID_PATTERN.fullmatch(kid):
            raise UnsafeConfigError(
                f"CIVICGRID_DATA_KEYS entry {position} has an invalid key id: use 1–32 letters, digits, '.', '_' "
                "or '-', starting with a letter or digit."
            )
        if kid in keys:
            raise UnsafeConfigError(f"CIVICGRID_DATA_KEYS lists key id {kid!r} twice; key ids must be unique.")
        keys[kid] = decode_key(encoded, f"key {kid!r} in CIVICGRID_DATA_KEYS")
    return keys


def random_secret() -> str:
    return secrets.token_urlsafe(48)


@lru_cache
def get_settings() -> Settings:
    return Settings()
