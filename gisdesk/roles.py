"""Who may do what: roles are cumulative (DESIGN.md), expressed as permissions per role.

One table for every page, API call, export and tile; the web edge asks ``allowed(role, perm)``.
"""
from __future__ import annotations

# viewer < planner; viewer < desk_staff < supervisor < admin; supervisor also has planner's
# rights; operator = viewer + result entry for its own agency.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "planner": frozenset({"view", "export"}),
    "desk_staff": frozenset({"view", "report"}),
    "operator": frozenset({"view", "result_entry"}),
    "supervisor": frozenset({"view", "export", "report", "review", "import", "quickcount"}),
    "admin": frozenset({"view", "export", "report", "review", "import", "quickcount",
                        "result_entry", "admin"}),
}
ROLES = tuple(PERMISSIONS)
ROLE_LABELS = {
    "viewer": "Koordinator keamanan (lihat)",
    "planner": "Perencana / GIS",
    "desk_staff": "Petugas desk",
    "supervisor": "Kepala desk",
    "operator": "Operator hasil (instansi)",
    "admin": "Administrator",
}


def allowed(role: str | None, permission: str) -> bool:
    return permission in PERMISSIONS.get(role or "", frozenset())


def can_any(role: str | None, permissions) -> bool:
    return any(allowed(role, p) for p in permissions)
