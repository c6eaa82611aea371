"""Password hashing (argon2id), access tokens (JWT) and opaque secrets stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from civicgrid.core.clock import utcnow

# argon2id with the RFC 9106 "low memory" profile: 64 MiB, 3 passes.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
MIN_PASSWORD_LENGTH = 10
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a token type name, not a secret


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password("timing-equaliser-for-unknown-users")


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so unknown usernames do not answer faster."""
    verify_password(_DUMMY_HASH, password)


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if username.lower() in password.lower():
        return "must not contain the username"
    if len(set(password)) < 5:
        return "uses too few different characters"
    return None


def issue_access_token(secret_key: str, user_id: int, minutes: int) -> tuple[str, datetime]:
    now = utcnow()
    expires = now + timedelta(minutes=minutes)
    claims = {
        "sub": str(user_id),
        "typ": ACCESS_TOKEN_TYPE,
        "iat": now,
        "exp": expires,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret_key, algorithm="HS256"), expires


def read_access_token(secret_key: str, token: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is forged, expired or not an access token."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret_key,
            algorithms=["HS256"],
            options={"require": ["sub", "exp", "typ"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None
    # Expiry is checked against the platform clock (which tests can move), not the wall clock.
    if claims.get("typ") != ACCESS_TOKEN_TYPE or float(claims["exp"]) <= utcnow().timestamp():
        return None
    return claims


def new_opaque_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
