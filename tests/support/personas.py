"""The shared cast of users (CONVENTIONS 17), built through the real services.

Org "acme" (teams "alpha" and "beta") and org "globex":
- owner:           Org Owner of acme
- org_<role>:      that role at acme's org level (registry_admin, registry_user, registry_read, user_admin, user_read)
- alpha_<role>:    that role on team acme/alpha (same five roles)
- beta_user:       Registry User on team acme/beta (the "other team")
- outsider:        Org Owner of globex, no role in acme (the "other org")
"""
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.contrib.auth.hashers import make_password

from accounts import services
from accounts.models import Org, Team, User
from accounts.permissions import Space
from accounts.roles import Role

PASSWORD = "correct-horse-battery-9"
FIVE_ROLES = (Role.REGISTRY_ADMIN, Role.REGISTRY_USER, Role.REGISTRY_READ, Role.USER_ADMIN, Role.USER_READ)


@dataclass
class Personas:
    acme: Org
    alpha: Team
    beta: Team
    globex: Org
    users: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def acme_space(self) -> Space:
        return Space(self.acme)

    @property
    def alpha_space(self) -> Space:
        return Space(self.acme, self.alpha)

    @property
    def beta_space(self) -> Space:
        return Space(self.acme, self.beta)

    @property
    def globex_space(self) -> Space:
        return Space(self.globex)


def _password_hash() -> str:
    # Hashed once per run and per hasher: the real (slow, PBKDF2) hasher, so live servers verify it as in
    # production. Keyed by the hasher in force, so a module that swaps in a fast hasher for its own
    # tests does not leave a hash the live servers cannot verify cached for later modules.
    return _password_hash_with(settings.PASSWORD_HASHERS[0])


@cache
def _password_hash_with(hasher_path: str) -> str:
    return make_password(PASSWORD)


def _user(key: str) -> User:
    user = services.user_create(
        email=f"{key.replace('_', '-')}@example.test", name=key.replace("_", " ").title(), email_verified=True
    )
    user.password = _password_hash()
    user.save(update_fields=["password"])
    return user


def build_personas() -> Personas:
    owner = _user("owner")
    acme = services.org_create(name="acme", display_name="Acme Corp", owner=owner)
    alpha = services.team_create(org=acme, actor=owner, name="alpha", description="Team Alpha")
    beta = services.team_create(org=acme, actor=owner, name="beta", description="Team Beta")
    outsider = _user("outsider")
    globex = services.org_create(name="globex", display_name="Globex", owner=outsider)
    cast = Personas(acme=acme, alpha=alpha, beta=beta, globex=globex, users={"owner": owner, "outsider": outsider})
    for role in FIVE_ROLES:
        short = role.lower()
        org_user = _user(f"org_{short}")
        services.role_add(actor=owner, space=cast.acme_space, user=org_user, roles=[role])
        cast.users[f"org_{short}"] = org_user
        team_user = _user(f"alpha_{short}")
        services.role_add(actor=owner, space=cast.alpha_space, user=team_user, roles=[role])
        cast.users[f"alpha_{short}"] = team_user
    beta_user = _user("beta_user")
    services.role_add(actor=owner, space=cast.beta_space, user=beta_user, roles=[Role.REGISTRY_USER])
    cast.users["beta_user"] = beta_user
    return cast
