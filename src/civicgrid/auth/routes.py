"""Login, token refresh, the caller's profile, account administration and API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicgrid.auth import service, users
from civicgrid.auth.deps import PrincipalDep, SettingsDep
from civicgrid.auth.models import ApiKey, User
from civicgrid.auth.schemas import (
    ApiKeyCreatedOut,
    ApiKeyCreateIn,
    ApiKeyOut,
    LoginIn,
    LogoutIn,
    MeOut,
    PasswordIn,
    RefreshIn,
    RoleOut,
    ScopeOut,
    TokenOut,
    UnitRef,
    UserCreateIn,
    UserOut,
    UserUpdateIn,
)
from civicgrid.authz.permissions import ROLE_LABELS, ROLE_PERMISSIONS, Role
from civicgrid.authz.policy import require, restrict
from civicgrid.authz.scope import Principal
from civicgrid.core.clock import utcnow
from civicgrid.core.errors import Forbidden, TooManyRequests
from civicgrid.core.pagination import ListParams, Page, apply_sort, list_params, paginate
from civicgrid.core.web import DatabaseDep, SessionDep, client_address
from civicgrid.geo.models import Division
from civicgrid.org.models import OrgUnit

router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
keys_router = APIRouter(prefix="/api-keys", tags=["auth"])

ListDep = Annotated[ListParams, Depends(list_params)]


def _me(session: Session, user: User, principal: Principal) -> MeOut:
    division = session.get(Division, user.scope_division_code)
    unit = session.get(OrgUnit, user.unit_id) if user.unit_id else None
    zh, en = ROLE_LABELS[Role(user.role)]
    return MeOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label_zh=zh,
        role_label_en=en,
        permissions=sorted(principal.permissions),
        scope=ScopeOut(
            division_code=principal.scope.division_code,
            level=principal.scope.level.value,
            name=division.name if division else principal.scope.division_code,
            department_id=principal.scope.department_id,
        ),
        unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
    )


def _token_out(session: Session, pair: service.TokenPair) -> TokenOut:
    principal = service.load_principal(session, pair.user.id)
    assert principal is not None
    return TokenOut(
        access_token=pair.access_token,
        expires_in=int((pair.access_expires_at - utcnow()).total_seconds()),
        refresh_token=pair.refresh_token,
        user=_me(session, pair.user, principal),
    )


@router.post("/login", operation_id="auth_login", response_model=TokenOut)
def login(
    body: LoginIn, request: Request, session: SessionDep, database: DatabaseDep, settings: SettingsDep
) -> TokenOut:
    """Exchange a username and password for an access token and a refresh token."""
    address = client_address(request) or "unknown"
    if not request.app.state.login_limiter.allow(address):
        raise TooManyRequests("too many login attempts from this address; wait a minute and try again")
    with database.unit_of_work(write=False) as read:
        check = service.check_credentials(read, body.username.strip().lower(), body.password)
    pair = service.login(session, settings, check)
    return _token_out(session, pair)


@router.post("/refresh", operation_id="auth_refresh", response_model=TokenOut)
def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenOut:
    """Spend a refresh token for a new access token and a new refresh token."""
    pair = service.refresh(session, settings, body.refresh_token)
    return _token_out(session, pair)


@router.post("/logout", operation_id="auth_logout", status_code=204)
def logout(body: LogoutIn, session: SessionDep, principal: PrincipalDep) -> None:
    """End the session: the refresh token's family is revoked."""
    service.logout(session, principal, body.refresh_token)


@router.get("/me", operation_id="auth_me", response_model=MeOut)
def me(session: SessionDep, principal: PrincipalDep) -> MeOut:
    """The caller's account, role, permissions and scope."""
    if principal.user_id is None:
        raise Forbidden("API keys have no profile")
    user = session.get(User, principal.user_id)
    assert user is not None
    return _me(session, user, principal)


@router.get("/roles", operation_id="auth_list_roles", response_model=list[RoleOut])
def roles(principal: PrincipalDep) -> list[RoleOut]:
    """Every role with its labels and permission codes."""
    return [
        RoleOut(
            code=role.value,
            label_zh=ROLE_LABELS[role][0],
            label_en=ROLE_LABELS[role][1],
            permissions=sorted(ROLE_PERMISSIONS[role]),
        )
        for role in Role
    ]


# --- users ----------------------------------------------------------------------------------------------

USER_SORTS = {
    "username": User.username,
    "display_name": User.display_name,
    "role": User.role,
    "created_at": User.created_at,
    "last_login_at": User.last_login_at,
}


def _user_out(user: User, division_name: str | None, unit_name: str | None) -> UserOut:
    out = UserOut.model_validate(user)
    out.scope_division_name = division_name
    out.unit_name = unit_name
    return out


def _names(session: Session, user: User) -> tuple[str | None, str | None]:
    division = session.get(Division, user.scope_division_code)
    unit = session.get(OrgUnit, user.unit_id) if user.unit_id else None
    return (division.name if division else None, unit.name if unit else None)


@users_router.get("", operation_id="users_list", response_model=Page[UserOut])
def list_users(
    session: SessionDep,
    principal: PrincipalDep,
    params: ListDep,
    q: Annotated[str | None, Query(max_length=64, description="username or display name contains")] = None,
    role: str | None = None,
    scope_division_code: str | None = None,
    is_active: bool | None = None,
) -> Page[UserOut]:
    """Accounts whose scope lies inside the caller's scope."""
    query = users.query_users(principal, users.UserFilter(q, role, scope_division_code, is_active))
    query = apply_sort(query, params.sort, USER_SORTS, [User.id])
    rows, total = paginate(session, query, params, scalars=False)
    return Page[UserOut].of([_user_out(u, dn, un) for u, dn, un in rows], total, params)


@users_router.post("", operation_id="users_create", response_model=UserOut, status_code=201)
def create_user(body: UserCreateIn, session: SessionDep, principal: PrincipalDep) -> UserOut:
    """Create an account inside the caller's scope."""
    user = users.create_user(session, principal, **body.model_dump())
    return _user_out(user, *_names(session, user))


@users_router.get("/{user_id}", operation_id="users_get", response_model=UserOut)
def get_user(user_id: int, session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = users.get_user(session, principal, user_id)
    return _user_out(user, *_names(session, user))


@users_router.patch("/{user_id}", operation_id="users_update", response_model=UserOut)
def update_user(user_id: int, body: UserUpdateIn, session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = users.update_user(session, principal, user_id, body.model_dump(exclude_unset=True))
    return _user_out(user, *_names(session, user))


@users_router.post("/{user_id}/unlock", operation_id="users_unlock", response_model=UserOut)
def unlock_user(user_id: int, session: SessionDep, principal: PrincipalDep) -> UserOut:
    user = users.unlock_user(session, principal, user_id)
    return _user_out(user, *_names(session, user))


@users_router.post("/{user_id}/password", operation_id="users_set_password", status_code=204)
def set_password(user_id: int, body: PasswordIn, session: SessionDep, principal: PrincipalDep) -> None:
    users.set_password(session, principal, user_id, body.password)


# --- API keys -------------------------------------------------------------------------------------------


@keys_router.get("", operation_id="api_keys_list", response_model=Page[ApiKeyOut])
def list_keys(session: SessionDep, principal: PrincipalDep, params: ListDep) -> Page[ApiKeyOut]:
    query = restrict(
        select(ApiKey).join(Division, Division.code == ApiKey.scope_division_code),
        principal,
        "apikey:write",
        Division,
    )
    query = apply_sort(query, params.sort, {"created_at": ApiKey.created_at, "name": ApiKey.name}, [ApiKey.id])
    rows, total = paginate(session, query, params)
    return Page[ApiKeyOut].of([ApiKeyOut.model_validate(r) for r in rows], total, params)


@keys_router.post("", operation_id="api_keys_create", response_model=ApiKeyCreatedOut, status_code=201)
def create_key(body: ApiKeyCreateIn, session: SessionDep, principal: PrincipalDep) -> ApiKeyCreatedOut:
    """Issue a key for a machine client; the plaintext is returned once."""
    issued = service.create_api_key(session, principal, **body.model_dump())
    return ApiKeyCreatedOut(**ApiKeyOut.model_validate(issued.key).model_dump(), key=issued.plaintext)


@keys_router.delete("/{key_id}", operation_id="api_keys_revoke", response_model=ApiKeyOut)
def revoke_key(key_id: int, session: SessionDep, principal: PrincipalDep) -> ApiKeyOut:
    require(principal, "apikey:write")
    return ApiKeyOut.model_validate(service.revoke_api_key(session, principal, key_id))
