"""Settings from CIVICGRID_* environment variables and an optional .env file.

Outside demo mode the secrets must be set and strong: a platform that stores personal data must not
start with a key anyone can read in this repository.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "civicgrid-demo-secret-do-not-use-in-production"  # noqa: S105 - the known value we refuse
MIN_SECRET_LENGTH = 32


class UnsafeConfigError(ValueError):
    """The configuration would run the platform insecurely."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICGRID_", env_file=".env", extra="ignore")

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
    log_level: str = "INFO"
    serve_frontend: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from exc
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
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'civicgrid.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

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


def random_secret() -> str:
    return secrets.token_urlsafe(48)


@lru_cache
def get_settings() -> Settings:
    return Settings()
