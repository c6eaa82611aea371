"""Request and response bodies of the auth, users and API-key endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class LogoutIn(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=200)


class ScopeOut(BaseModel):
    division_code: str
    level: str
    name: str
    department_id: int | None = None


class UnitRef(BaseModel):
    id: int
    name: str


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    role_label_zh: str
    role_label_en: str
    permissions: list[str]
    scope: ScopeOut
    unit: UnitRef | None


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str
    user: MeOut


class RoleOut(BaseModel):
    code: str
    label_zh: str
    label_en: str
    permissions: list[str]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    scope_division_code: str
    scope_division_name: str | None = None
    unit_id: int | None
    unit_name: str | None = None
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class UserCreateIn(BaseModel):
    username: str = Field(min_length=3, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=256)
    role: str
    scope_division_code: str = Field(min_length=6, max_length=15)
    unit_id: int | None = None


class UserUpdateIn(BaseModel):
    display_name: str | None = Field(default=None, max_length=100)
    role: str | None = None
    scope_division_code: str | None = Field(default=None, min_length=6, max_length=15)
    unit_id: int | None = None
    is_active: bool | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=256)


class ApiKeyCreateIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: str
    scope_division_code: str = Field(min_length=6, max_length=15)
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: str
    scope_division_code: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="shown once; store it now, only its hash is kept")
