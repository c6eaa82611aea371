"""Login with lock-out, rotating refresh tokens, and API keys for machines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicgrid.audit import service as audit
from civicgrid.auth.models import ApiKey, RefreshToken, User
from civicgrid.auth.secrets import (
    burn_password_check,
    issue_access_token,
    new_opaque_secret,
    read_access_token,
    same_digest,
    sha256_hex,
    verify_password,
)
from civicgrid.authz.permissions import ROLE_PERMISSIONS, Role
from civicgrid.authz.policy import area_codes_of, require, require_area
from civicgrid.authz.scope import Level, Principal, Scope
from civicgrid.config import Settings
from civicgrid.core.clock import as_utc, utcnow
from civicgrid.core.errors import AppError, InvalidInput, NotFound, Unauthenticated
from civicgrid.geo.models import Division

API_KEY_PREFIX = "cgk_"


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    keep_changes = True


class AccountLocked(AppError):
    status_code = 423
    code = "account_locked"
    keep_changes = True


class TokenRejected(Unauthenticated):
    code = "invalid_token"
    keep_changes = True


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    user: User


def principal_for(user: User, division_level: str) -> Principal:
    role = Role(user.role)
    return Principal(
        user_id=user.id,
        username=user.username,
        role=role.value,
        permissions=ROLE_PERMISSIONS[role],
        scope=Scope(user.scope_division_code, Level(division_level), user.scope_department_id),
        unit_id=user.unit_id,
    )


def load_principal(session: Session, user_id: int) -> Principal | None:
    row = session.execute(
        select(User, Division.level).join(Division, Division.code == User.scope_division_code).where(User.id == user_id)
    ).first()
    if row is None or not row[0].is_active:
        return None
    return principal_for(row[0], row[1])


def principal_from_access_token(session: Session, settings: Settings, token: str) -> Principal | None:
    claims = read_access_token(settings.secret_key, token)
    if claims is None:
        return None
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        return None
    return load_principal(session, user_id)


@dataclass(frozen=True)
class CredentialCheck:
    """The slow part of a login (argon2id), done before the write transaction begins."""

    user_id: int | None
    password_ok: bool


def check_credentials(session: Session, username: str, password: str) -> CredentialCheck:
    """Verify the password in a read-only session, so that no write lock is held during argon2id."""
    row = session.execute(select(User.id, User.password_hash, User.is_active).where(User.username == username)).first()
    if row is None or not row.is_active:
        burn_password_check(password)
        return CredentialCheck(None, False)
    return CredentialCheck(row.id, verify_password(row.password_hash, password))


def login(session: Session, settings: Settings, check: CredentialCheck) -> TokenPair:
    """Record the outcome of `check`: count failures and lock the account after too many in a row."""
    now = utcnow()
    user = session.get(User, check.user_id) if check.user_id is not None else None
    if user is None or not user.is_active:
        audit.record(session, None, "auth.login_failed", "user", None, details={"reason": "unknown_or_inactive"})
        raise InvalidCredentials("wrong username or password")
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        raise AccountLocked(
            "this account is locked after too many failed logins; try again later or ask an administrator to unlock it",
            details={"locked_until": as_utc(user.locked_until).isoformat()},
        )
    if not check.password_ok:
        user.failed_logins += 1
        details: dict[str, object] = {"failed_logins": user.failed_logins}
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
            user.failed_logins = 0
            details["locked_until"] = user.locked_until.isoformat()
        audit.record(session, None, "auth.login_failed", "user", user.id, details=details, actor_name=user.username)
        session.flush()
        if "locked_until" in details:
            raise AccountLocked(
                f"too many failed logins: this account is locked for {settings.login_lockout_minutes} minutes",
                details={"locked_until": details["locked_until"]},
            )
        raise InvalidCredentials(
            "wrong username or password",
            details={"attempts_left": settings.login_max_failures - user.failed_logins},
        )
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    pair = _issue(session, settings, user, family=new_opaque_secret(16))
    audit.record(session, _principal_of(session, user), "auth.login", "user", user.id)
    return pair


def _principal_of(session: Session, user: User) -> Principal:
    level = session.scalar(select(Division.level).where(Division.code == user.scope_division_code))
    return principal_for(user, level or Level.city.value)


def _issue(session: Session, settings: Settings, user: User, *, family: str) -> TokenPair:
    access, expires = issue_access_token(settings.secret_key, user.id, settings.access_token_minutes)
    refresh = new_opaque_secret()
    session.add(
        RefreshToken(
            user_id=user.id,
            family=family,
            token_hash=sha256_hex(refresh),
            issued_at=utcnow(),
            expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
        )
    )
    session.flush()
    return TokenPair(access, expires, refresh, user)


def _revoke_family(session: Session, family: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_sessions(session: Session, user_id: int) -> None:
    """End every refresh-token family of a user (password reset, account disabled)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def refresh(session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair; presenting a spent token revokes its whole family."""
    stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token)))
    if stored is None:
        raise TokenRejected("unknown refresh token; log in again")
    if stored.revoked_at is not None:
        raise TokenRejected("this session was ended; log in again")
    if stored.spent_at is not None:
        _revoke_family(session, stored.family)
        audit.record(session, None, "auth.refresh_reuse", "user", stored.user_id, details={"family_revoked": True})
        raise TokenRejected("this refresh token was already used, so the session was ended for safety; log in again")
    if as_utc(stored.expires_at) <= utcnow():
        raise TokenRejected("the session expired; log in again")
    user = session.get(User, stored.user_id)
    if user is None or not user.is_active:
        _revoke_family(session, stored.family)
        raise TokenRejected("the account is disabled")
    stored.spent_at = utcnow()
    return _issue(session, settings, user, family=stored.family)


def logout(session: Session, principal: Principal, refresh_token: str | None) -> None:
    if refresh_token:
        stored = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == sha256_hex(refresh_token)))
        if stored is not None and stored.user_id == principal.user_id:
            _revoke_family(session, stored.family)
    audit.record(session, principal, "auth.logout", "user", principal.user_id)


# --- API keys -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApiKey:
    key: ApiKey
    plaintext: str


def create_api_key(
    session: Session,
    principal: Principal,
    *,
    name: str,
    role: str,
    scope_division_code: str,
    expires_at: datetime | None = None,
) -> IssuedApiKey:
    require(principal, "apikey:write")
    try:
        Role(role)
    except ValueError as exc:
        raise InvalidInput(f"unknown role {role!r}", details={"field": "role"}) from exc
    division = session.get(Division, scope_division_code)
    if division is None:
        raise InvalidInput(f"unknown division {scope_division_code!r}", details={"field": "scope_division_code"})
    require_area(principal, "apikey:write", area_codes_of(division))
    prefix = new_opaque_secret(6).replace("-", "x").replace("_", "y")[:8]
    secret = new_opaque_secret()
    plaintext = f"{API_KEY_PREFIX}{prefix}.{secret}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=sha256_hex(plaintext),
        role=role,
        scope_division_code=scope_division_code,
        created_by=principal.user_id,
        expires_at=expires_at,
    )
    session.add(key)
    session.flush()
    audit.record(session, principal, "apikey.create", "api_key", key.id, details={"name": name, "role": role})
    return IssuedApiKey(key, plaintext)


def revoke_api_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    require(principal, "apikey:write")
    key = session.get(ApiKey, key_id)
    division = session.get(Division, key.scope_division_code) if key is not None else None
    if key is None or division is None:
        raise NotFound(f"API key {key_id} not found")
    try:
        require_area(principal, "apikey:write", area_codes_of(division))
    except NotFound as exc:
        raise NotFound(f"API key {key_id} not found") from exc
    key.revoked_at = utcnow()
    audit.record(session, principal, "apikey.revoke", "api_key", key.id)
    return key


def principal_from_api_key(session: Session, plaintext: str) -> Principal | None:
    if not plaintext.startswith(API_KEY_PREFIX) or "." not in plaintext:
        return None
    prefix = plaintext[len(API_KEY_PREFIX) :].split(".", 1)[0]
    row = session.execute(
        select(ApiKey, Division.level)
        .join(Division, Division.code == ApiKey.scope_division_code)
        .where(ApiKey.prefix == prefix)
    ).first()
    if row is None:
        return None
    key, level = row
    if not same_digest(key.key_hash, sha256_hex(plaintext)) or key.revoked_at is not None:
        return None
    if key.expires_at is not None and as_utc(key.expires_at) <= utcnow():
        return None
    role = Role(key.role)
    return Principal(
        user_id=None,
        username=f"apikey:{key.name}",
        role=role.value,
        permissions=ROLE_PERMISSIONS[role],
        scope=Scope(key.scope_division_code, Level(level)),
        api_key_id=key.id,
    )
