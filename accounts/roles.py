"""The roles of the guide (2.4.1) and its role → service → access table (2.5.2.5), as data.

Nothing here decides a request; `accounts.permissions` does, using these tables.
"""
from django.db import models


class Role(models.TextChoices):
    ORG_OWNER = "ORG_OWNER", "Org Owner"
    REGISTRY_ADMIN = "REGISTRY_ADMIN", "Registry Admin"
    REGISTRY_USER = "REGISTRY_USER", "Registry User"
    REGISTRY_READ = "REGISTRY_READ", "Registry Read"
    USER_ADMIN = "USER_ADMIN", "User Admin"
    USER_READ = "USER_READ", "User Read"


class Service(models.TextChoices):
    CONTAINER = "CONTAINER"
    HELM = "HELM"
    MODEL = "MODEL"
    MODELSCRIPT = "MODELSCRIPT"  # resources
    ORG = "ORG"
    TEAM = "TEAM"
    USER = "USER"


class Access(models.TextChoices):
    READ = "READ"
    WRITE = "WRITE"
    ADMIN = "ADMIN"


ARTIFACT_SERVICES = (Service.CONTAINER, Service.HELM, Service.MODEL, Service.MODELSCRIPT)
_RWA = frozenset({Access.READ, Access.WRITE, Access.ADMIN})
_RW = frozenset({Access.READ, Access.WRITE})
_R = frozenset({Access.READ})

# Guide 2.5.2.5, restricted to the services this registry has. ORG_OWNER and USER_READ are not in
# that table; they follow guide 2.4.1 (the owner may do everything, User Read views org/team/users).
ROLE_SERVICE_ACCESS: dict[str, dict[str, frozenset[str]]] = {
    Role.ORG_OWNER: {service: _RWA for service in Service.values},
    Role.REGISTRY_ADMIN: {service: _RWA for service in Service.values},
    Role.REGISTRY_USER: {
        Service.CONTAINER: _RW, Service.HELM: _RW, Service.MODEL: _RW, Service.MODELSCRIPT: _RW,
        Service.ORG: _RW, Service.TEAM: _RW,
    },
    Role.REGISTRY_READ: {
        Service.CONTAINER: _R, Service.HELM: _R, Service.MODEL: _R, Service.MODELSCRIPT: _R,
        Service.ORG: _R, Service.TEAM: _R,
    },
    Role.USER_ADMIN: {service: _RWA for service in Service.values},
    Role.USER_READ: {Service.ORG: _R, Service.TEAM: _R, Service.USER: _R},
}

# Org-level bindings of these roles reach into every team of the org; other org-level roles
# reach only org-level artifacts (architecture: "Org Owner and org-level admin roles reach every team").
ORG_WIDE_ROLES = frozenset({Role.ORG_OWNER, Role.REGISTRY_ADMIN, Role.USER_ADMIN})

# Holding a role counts as holding the lesser roles of its family, for granting purposes: an org
# admin adds Registry Users (guide 2.5.2.3) without a User Admin ever granting Registry Admin.
IMPLIED_ROLES: dict[str, frozenset[str]] = {
    Role.REGISTRY_ADMIN: frozenset({Role.REGISTRY_USER, Role.REGISTRY_READ}),
    Role.REGISTRY_USER: frozenset({Role.REGISTRY_READ}),
    Role.USER_ADMIN: frozenset({Role.USER_READ}),
}


def with_implied(roles) -> set[str]:
    """The roles plus the lesser roles each implies."""
    result = set(roles)
    for role in roles:
        result |= IMPLIED_ROLES.get(role, frozenset())
    return result


# Roles that may be granted through invitations and role changes (ownership is transferred instead).
GRANTABLE_ROLES = tuple(role for role in Role.values if role != Role.ORG_OWNER)

# The legacy names NGC's CLI uses (guide 2.5.2) and NGC's short names, mapped to our roles.
ROLE_ALIASES: dict[str, str] = {
    "REGISTRY_WRITE_ADMIN_ROLE": Role.REGISTRY_ADMIN,
    "REGISTRY_WRITE_TEAM_ADMIN_ROLE": Role.REGISTRY_ADMIN,
    "REGISTRY_WRITE_USER_ROLE": Role.REGISTRY_USER,
    "REGISTRY_WRITE_ROLE": Role.REGISTRY_USER,
    "REGISTRY_READ_ROLE": Role.REGISTRY_READ,
    "REGISTRY_READ": Role.REGISTRY_READ,
    "ADMIN": Role.REGISTRY_ADMIN,
    "USER": Role.REGISTRY_USER,
    "ORG_ADMIN": Role.REGISTRY_ADMIN,
    "USER_ADMIN_ROLE": Role.USER_ADMIN,
    "USER_READ_ROLE": Role.USER_READ,
    "OWNER": Role.ORG_OWNER,
}


class UnknownRole(ValueError):
    pass


def normalize_role(name: str) -> str:
    """Return the canonical role for a canonical name, a legacy alias or a display label.

    Raises UnknownRole, whose message lists the accepted names.
    """
    raw = (name or "").strip()
    key = raw.upper().replace(" ", "_").replace("-", "_")
    if key in Role.values:
        return key
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    raise UnknownRole(f"Unknown role {raw!r}. Valid roles: {', '.join(Role.values)}.")

