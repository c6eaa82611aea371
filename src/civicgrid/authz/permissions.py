"""Permission codes (`resource:action`) and the roles of DESIGN.md §1."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    center_operator = "center_operator"
    department_staff = "department_staff"
    community_staff = "community_staff"
    grid_worker = "grid_worker"
    volunteer = "volunteer"
    resident = "resident"
    data_steward = "data_steward"
    auditor = "auditor"


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.admin: ("平台管理员", "Administrator"),
    Role.center_operator: ("综治中心工作人员", "Centre operator"),
    Role.department_staff: ("部门工作人员", "Department staff"),
    Role.community_staff: ("社区工作人员", "Community staff"),
    Role.grid_worker: ("网格员", "Grid worker"),
    Role.volunteer: ("志愿者", "Volunteer"),
    Role.resident: ("居民", "Resident"),
    Role.data_steward: ("数据管理员", "Data steward"),
    Role.auditor: ("审计员", "Auditor"),
}

# Every permission code the platform knows, with what it allows.
PERMISSIONS: dict[str, str] = {
    "geo:read": "read divisions, grids and their boundaries",
    "geo:import": "import divisions, boundaries and grids",
    "org:read": "read organisation units and grid staffing",
    "org:write": "create and change organisation units and grid staffing",
    "user:read": "read user accounts",
    "user:write": "create, change, lock and unlock user accounts",
    "apikey:write": "issue and revoke API keys for machine clients",
    "audit:read": "read the audit trail",
    "audit:verify": "verify the audit chain",
    "person:read": "read people, households and residence histories (masked)",
    "person:write": "register and correct people and households, move and deregister them",
    "person:review": "approve people registered or corrected by grid workers",
    "person:pii": "see unmasked names, ID numbers and phones, stating a purpose (audited)",
    "house:read": "read houses and tenancies",
    "house:write": "register and correct houses and tenancies",
    "organisation:read": "read organisations, places, schools and protected lines",
    "organisation:write": "register and correct organisations, places, schools and protected lines",
    "care:read": "read special-care records and visits (every read audited)",
    "care:write": "create special-care records and record follow-up visits",
    "registry:import": "import people and houses from CSV/XLSX",
    "registry:export": "export a scoped, masked selection of the registry",
    "codes:write": "edit the code tables",
    "case:read": "read the cases of one's area (department staff: the cases dispatched to their unit)",
    "case:report": "report a case (residents and volunteers see the cases they reported)",
    "case:handle": "take workflow actions on cases one holds, handles or verifies",
    "case:supervise": "supervise the cases of the rungs below: cards, taking over, extension decisions",
    "case:import": "import 12345 hotline tickets",
    "case:admin": "edit case categories and SLA rules",
    "calendar:write": "edit the working-day calendar (public holidays and make-up working days)",
    "dispute:read": "read the disputes of one's area (department staff: of the justice department only)",
    "dispute:write": "record disputes with their cases, parties, mediation sessions, outcomes and follow-ups",
    "safety:read": "read the safety index of one's area with its explanations, warnings and hotspot forecasts",
    "safety:incidents": "read single police calls and incidents of one's area (time, place, category)",
    "safety:import": "import police-call and incident feeds and push real-time calls; edit feed mappings",
    "safety:warn": "acknowledge warnings, turn them into cases and close them",
    "safety:admin": "edit the index configuration and the incident categories",
    "command:read": "open the command centre and the analysis (研判) reports of one's area",
    "position:share": "share one's own position with the command centre while on duty",
}

_EVERYONE_SIGNED_IN = {"geo:read", "org:read"}
_REGISTRY_READ = {"person:read", "house:read", "organisation:read"}
_REGISTRY_COLLECT = _REGISTRY_READ | {"person:write", "house:write", "organisation:write", "person:pii"}
_CARE = {"care:read", "care:write"}
_CASE_WORK = {"case:read", "case:report", "case:handle"}
_DISPUTES = {"dispute:read", "dispute:write"}
_SAFETY_WATCH = {"safety:read", "safety:warn", "command:read"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    # Administrators run the platform; they do not see residents' personal data.
    Role.admin: frozenset(
        _EVERYONE_SIGNED_IN
        | {"geo:import", "org:write", "user:read", "user:write", "apikey:write", "codes:write", "calendar:write"}
        | {"case:admin", "safety:admin", "safety:read"}
    ),
    Role.center_operator: frozenset(
        _EVERYONE_SIGNED_IN
        | {"user:read", "person:review", "registry:import", "registry:export"}
        | _REGISTRY_COLLECT
        | _CARE
        | _CASE_WORK
        | {"case:supervise", "case:import"}
        | _DISPUTES
        | _SAFETY_WATCH
        | {"safety:incidents", "safety:import"}
    ),
    # dispute:read is honoured for the justice department's staff only (disputes.access.require_read).
    Role.department_staff: frozenset(
        _EVERYONE_SIGNED_IN | _REGISTRY_READ | {"person:pii"} | _CASE_WORK | {"dispute:read", "safety:read"}
    ),
    Role.community_staff: frozenset(
        _EVERYONE_SIGNED_IN
        | {"person:review", "registry:import"}
        | _REGISTRY_COLLECT
        | _CARE
        | _CASE_WORK
        | {"case:supervise"}
        | _DISPUTES
        | _SAFETY_WATCH
    ),
    Role.grid_worker: frozenset(
        _EVERYONE_SIGNED_IN | _REGISTRY_COLLECT | _CARE | _CASE_WORK | _DISPUTES | {"safety:read", "position:share"}
    ),
    Role.volunteer: frozenset(_EVERYONE_SIGNED_IN | {"case:report"}),
    Role.resident: frozenset({"case:report"}),
    Role.data_steward: frozenset(_EVERYONE_SIGNED_IN),
    Role.auditor: frozenset(_EVERYONE_SIGNED_IN | {"audit:read", "audit:verify", "user:read"}),
}

assert all(code in PERMISSIONS for perms in ROLE_PERMISSIONS.values() for code in perms)
