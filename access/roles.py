"""The four roles a CSP gives its users and what each may do (the rule is checked by the
library functions the pages call, not only by hiding widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UserError

VIEW = "view maps, hotspots, summaries and briefing packs"
SEE_RESTRICTED = "see restricted categories"
IMPORT = "import incidents and read set-aside rows"
MANAGE_LAYERS = "add and change layers"
EVALUATE = "evaluate hotspot methods"
EDIT_THEMES = "edit the priority-theme mapping"
LOG_CHECKS = "log equipment checks"
MANAGE_EQUIPMENT = "manage water-safety equipment"
MANAGE_PROBLEMS = "manage problem locations and actions"
MANAGE_PSPOS = "manage PSPOs"
MANAGE_USERS = "manage users and roles"
MANAGE_RESTRICTED = "choose restricted categories"
READ_AUDIT = "read and export the audit log"

ROLES = ("viewer", "analyst", "officer", "admin")
_VIEWER = frozenset({VIEW})
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": _VIEWER,
    "analyst": _VIEWER | {SEE_RESTRICTED, IMPORT, MANAGE_LAYERS, EVALUATE, EDIT_THEMES},
    "officer": _VIEWER | {LOG_CHECKS, MANAGE_EQUIPMENT, MANAGE_PROBLEMS},
    "admin": _VIEWER | {SEE_RESTRICTED, IMPORT, MANAGE_LAYERS, EVALUATE, EDIT_THEMES,
                        LOG_CHECKS, MANAGE_EQUIPMENT, MANAGE_PROBLEMS, MANAGE_PSPOS,
                        MANAGE_USERS, MANAGE_RESTRICTED, READ_AUDIT},
}
ROLE_SUMMARY = {
    "viewer": "maps, hotspots, summaries and briefing packs, without restricted categories",
    "analyst": "as viewer, plus restricted categories, imports, layers and evaluation",
    "officer": "as viewer, plus equipment checks, equipment, problem locations and actions",
    "admin": "everything, including PSPOs, users, roles and the audit log",
}


class AccessDenied(UserError, PermissionError):
    """Someone tried something their role does not allow; the message says what and which
    roles may."""


def check_role(role: object) -> str:
    """A role name from the list (case and spaces ignored); raises ValueError otherwise."""
    name = str(role or "").strip().lower()
    if name not in ROLES:
        raise ValueError(f"role '{role}' is not one of: {', '.join(ROLES)}")
    return name


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user, the command line's operator or the app itself.
    `username` is what the audit log records; `role` is None for nobody signed in."""

    username: str
    role: str | None
    display_name: str = ""
    source: str = "local"  # local | oidc | cli | system | none

    @property
    def label(self) -> str:
        """How the person is named on screen and in `recorded_by`."""
        return self.display_name or self.username

    def can(self, permission: str) -> bool:
        """Whether the role allows `permission`."""
        return permission in PERMISSIONS.get(self.role or "", frozenset())

    def require(self, permission: str) -> None:
        """Raise AccessDenied unless the role allows `permission`."""
        if self.can(permission):
            return
        allowed = [role for role in ROLES if permission in PERMISSIONS[role]]
        who = f"{self.label} ({self.role})" if self.role else "nobody is signed in, so"
        raise AccessDenied(f"{who} may not {permission}: that needs the "
                           f"{' or '.join(allowed)} role")


NOBODY = Principal("(not signed in)", None, source="none")
