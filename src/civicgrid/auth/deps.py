"""Who is calling: the `PrincipalDep` every authenticated route takes.

A browser or app sends `Authorization: Bearer <access token>`; a machine sends `X-API-Key: <key>`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from civicgrid.auth import service
from civicgrid.authz.scope import Principal
from civicgrid.config import Settings
from civicgrid.core.errors import Unauthenticated
from civicgrid.core.web import SessionDep

_bearer = HTTPBearer(auto_error=False, description="access token from /api/v1/auth/login")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="machine client key")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def current_principal(
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    if bearer is not None:
        principal = service.principal_from_access_token(session, settings, bearer.credentials)
        if principal is None:
            raise Unauthenticated(
                "the access token is invalid or expired; refresh it or log in again", code="invalid_token"
            )
        return principal
    if api_key:
        principal = service.principal_from_api_key(session, api_key)
        if principal is None:
            raise Unauthenticated("the API key is invalid, revoked or expired", code="invalid_api_key")
        return principal
    raise Unauthenticated("log in first: send `Authorization: Bearer <token>` or `X-API-Key`")


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def optional_principal(
    session: SessionDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    """For public routes that also serve signed-in callers: None without credentials, 401 for bad ones."""
    if bearer is None and not api_key:
        return None
    return current_principal(session, settings, bearer, api_key)


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
