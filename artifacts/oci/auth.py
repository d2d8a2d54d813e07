"""Who may do what on the registry: token scopes, the grants /token issues, and request auth.

Clients follow the docker token flow: a request without credentials gets a 401 challenge naming
the realm (our /token), the registry's service name and the scope it needs; the client asks
/token for `repository:<name>:pull,push` and retries with the Bearer token. /token grants every
action the policy allows on each requested repository (not only the requested ones), because
some clients (oras) keep one token for a whole push. Verifying a token is an HMAC; the policy
is consulted again only when a token falls short, to tell "fetch a new token" (401
insufficient_scope) from "not allowed" (403 DENIED). Reads ride the token until it expires
(REGISTRY_TOKEN_TTL); writes and deletes also look up whether the user's authz version moved
since the token was issued (roles changed, key replaced, user deactivated) and if so re-check.
Basic `$oauthtoken:<api key>` is accepted directly too, at the cost of a key lookup per request.
"""
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.response import Response

from accounts.authentication import api_key_current
from accounts.models import User
from accounts.permissions import Action, can
from accounts.roles import Service
from accounts.services import api_key_authenticate, api_key_check
from accounts.tokens import InvalidToken, TokenClaims, issue_access_token, verify_access_token
from artifacts.core.metadata import space_of
from artifacts.oci.fastpath import statements
from registry_portal.oci_errors import OCIError
from artifacts.oci.names import InvalidName, resolve_name, validate_name
from registry_portal.authorization import BASIC, BEARER, parse_authorization
from registry_portal.token_endpoint import invalid_key_response

PULL, PUSH, DELETE = "pull", "push", "delete"
ANONYMOUS_USER_ID = 0


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(self.actions)}"


def parse_scopes(values) -> list[Scope]:
    """Parse `scope` parameters: repeated, or space-separated in one; `type:name:actions`, where the
    name may contain `/` (and, for a registry host prefix, `:`), so split on the first and last colon."""
    scopes = []
    for value in values or ():
        for item in value.split():
            kind, sep, rest = item.partition(":")
            name, sep2, actions = rest.rpartition(":")
            if not sep or not sep2 or not kind or not name:
                continue
            scopes.append(Scope(kind, name, tuple(a for a in actions.split(",") if a)))
    return scopes


def repository_actions(user, name: str) -> set[str]:
    """Every registry action the policy allows `user` (or anonymous) on repository `name`: in the
    space an existing repository was created in (stored, as every other face reads it), else in
    the space a first push would create it in."""
    from artifacts.models import Repository

    try:
        validate_name(name)
    except InvalidName:
        return set()
    repository = Repository.objects.select_related("org", "team").filter(name=name).first()
    if repository is not None:
        space = space_of(repository)
    else:
        space = resolve_name(name).space
        if space is None:
            return set()
    actions = set()
    if repository is not None and repository.is_public:
        actions.add(PULL)
    if user is None or not user.is_authenticated:
        return actions
    if can(user, Action.READ, space, service=Service.CONTAINER):
        actions.add(PULL)
    if can(user, Action.WRITE, space, service=Service.CONTAINER):
        actions.add(PUSH)
    creator_id = repository.created_by_id if repository is not None else user.pk
    if can(user, Action.DELETE, space, service=Service.CONTAINER, creator_id=creator_id):
        actions.add(DELETE)
    return actions


def granted_access(user, scopes: list[Scope]) -> list[dict]:
    """The access list for a registry token: per requested scope, every action the policy allows."""
    granted = []
    for scope in scopes:
        if scope.type == "repository":
            actions = repository_actions(user, scope.name)
        elif scope.type == "registry" and scope.name == "catalog":
            actions = {"*"} if user is not None and user.is_authenticated else set()
        else:
            actions = set()
        if actions:
            granted.append({"type": scope.type, "name": scope.name, "actions": sorted(actions)})
    return granted


def token_response(user, scope_values, *, key_id: int | None = None) -> dict:
    """The JSON body /token returns for the registry service (user may be anonymous; `key_id`: the
    API key they authenticated with). Lives REGISTRY_TOKEN_TTL: reads ride the token that long."""
    authenticated = user is not None and user.is_authenticated
    # Read before the grants are computed: a change in between leaves the token's version behind,
    # which costs a re-check on write, never a stale grant.
    authz_version = user.authz_version if authenticated else None
    access = granted_access(user, parse_scopes(scope_values))
    token, expires_in = issue_access_token(
        user_id=user.pk if authenticated else ANONYMOUS_USER_ID, audience=settings.REGISTRY_SERVICE_NAME, access=access,
        ttl_seconds=settings.REGISTRY_TOKEN_TTL.total_seconds(), authz_version=authz_version, key_id=key_id,
    )
    issued_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"token": token, "access_token": token, "expires_in": expires_in, "issued_at": issued_at}


def issue_registry_token(request, service: str, params) -> Response:
    """The `/token` issuer for the registry's service (registry_portal/token_endpoint.py). Without
    credentials the caller is anonymous and gets pull on public repositories only."""
    user, key_id = AnonymousUser(), None
    if request.META.get("HTTP_AUTHORIZATION"):
        key = api_key_check(parse_authorization(request).password)
        if key is None:
            return invalid_key_response(request)
        user, key_id = key.user, key.pk
    return Response(token_response(user, params.getlist("scope"), key_id=key_id))


def challenge(scope: str | None = None, *, error: str | None = None) -> str:
    value = f'Bearer realm="{settings.SITE_URL}/token",service="{settings.REGISTRY_SERVICE_NAME}"'
    if scope:
        value += f',scope="{scope}"'
    if error:
        value += f',error="{error}"'
    return value


# --- the caller of one registry request ------------------------------------------------------


@dataclass
class Caller:
    """The authenticated party of a registry request."""

    user_id: int | None  # None: anonymous
    token_access: dict | None = None  # (type, name) -> actions, when a Bearer token was presented
    claims: TokenClaims | None = None  # that token's claims
    _user: object = field(default=None, repr=False)

    @property
    def has_credentials(self) -> bool:
        return self.user_id is not None

    @property
    def user(self):
        if self._user is None:
            user = User.objects.filter(pk=self.user_id, is_active=True).first() if self.user_id else None
            self._user = user or AnonymousUser()
        return self._user

    def allowed(self, type_: str, name: str, action: str) -> bool:
        if self.token_access is not None:
            actions = self.token_access.get((type_, name), set())
            return action in actions or "*" in actions
        if type_ == "registry":
            return self.user.is_authenticated
        return action in repository_actions(self.user, name)

    def require(self, name: str, action: str, *, scope_actions: str | None = None) -> None:
        """Raise the right 401/403 unless the caller may do `action` on repository `name`. A token
        is enough to read; a write (push, delete) under a token also checks it is still current."""
        scope = f"repository:{name}:{scope_actions or action}"
        if self.allowed("repository", name, action):
            if action != PULL and self.claims is not None:
                self._require_current(name, action, scope, statements.user_authz(self.user_id) if self.user_id else None)
            return
        if not self.has_credentials:
            raise OCIError("UNAUTHORIZED", headers={"WWW-Authenticate": challenge(scope)})
        if self.token_access is not None and action in repository_actions(self.user, name):
            raise OCIError(
                "UNAUTHORIZED", "the token does not cover this scope",
                headers={"WWW-Authenticate": challenge(scope, error="insufficient_scope")},
            )
        raise OCIError("DENIED", f"requested access to {name} is denied")

    def require_push(self, name: str) -> int | None:
        """require(name, PUSH) for a push, and the id of repository `name` (None: not created yet).
        perf: under a token, the user's currency check and the repository's lookup are one statement."""
        if self.claims is None or not self.allowed("repository", name, PUSH):
            self.require(name, PUSH, scope_actions="pull,push")
            return statements.repository_id(name)
        repository_id, state = statements.push_target(name, user_id=self.user_id)
        self._require_current(name, PUSH, f"repository:{name}:pull,push", state)
        return repository_id

    def may_mount_from(self, source: str, *, target: str) -> bool:
        """Whether a cross-repository mount into `target` may read `source`. A token that does not
        cover `source` while the policy would let the caller pull it gets a 401 naming both scopes,
        as distribution answers, so the client fetches a token for both and retries; a caller who
        may not pull it gets False (a plain upload), whether or not `source` exists."""
        if self.allowed("repository", source, PULL):
            return True
        if self.token_access is not None and PULL in repository_actions(self.user, source):
            scope = f"repository:{target}:pull,push repository:{source}:pull"
            raise OCIError(
                "UNAUTHORIZED", "the token does not cover the repository to mount from",
                headers={"WWW-Authenticate": challenge(scope, error="insufficient_scope")},
            )
        return False

    def _require_current(self, name: str, action: str, scope: str, state: tuple[bool, int] | None) -> None:
        """A write under a token, given the user's (is_active, authz_version) now (None: no such user).
        Unchanged since issue → the token's grant stands; changed (roles, key, activity) → the
        token's API key must still be the user's and the policy must still allow the action."""
        if state is None or not state[0]:
            raise OCIError(
                "UNAUTHORIZED", "this token's user has been deactivated",
                headers={"WWW-Authenticate": challenge(scope, error="invalid_token")},
            )
        if self.claims.authz_version is not None and self.claims.authz_version == state[1]:
            return
        if not api_key_current(user_id=self.user_id, key_id=self.claims.key_id):
            raise OCIError(
                "UNAUTHORIZED", "the API key this token was obtained with has been replaced",
                headers={"WWW-Authenticate": challenge(scope, error="invalid_token")},
            )
        if action not in repository_actions(self.user, name):
            raise OCIError("DENIED", f"requested access to {name} is denied")


def authenticate(request) -> Caller:
    """Read the Authorization header: Bearer (a /token token), Basic $oauthtoken:<key>, or none."""
    auth = parse_authorization(request)
    if not auth.present:
        return Caller(user_id=None)
    if auth.scheme == BEARER:
        try:
            claims = verify_access_token(auth.credentials, audience=settings.REGISTRY_SERVICE_NAME)
        except InvalidToken:
            raise OCIError("UNAUTHORIZED", "invalid or expired token", headers={"WWW-Authenticate": challenge()}) from None
        access = {}
        for item in claims.access:
            access.setdefault((item.get("type"), item.get("name")), set()).update(item.get("actions") or ())
        return Caller(user_id=claims.user_id or None, token_access=access, claims=claims)
    if auth.scheme == BASIC:
        user = api_key_authenticate(auth.password) if auth.username == "$oauthtoken" else None
        if user is None:
            raise OCIError("UNAUTHORIZED", "invalid credentials", headers={"WWW-Authenticate": challenge()})
        return Caller(user_id=user.pk, _user=user)
    raise OCIError("UNAUTHORIZED", "unsupported authorization scheme", headers={"WWW-Authenticate": challenge()})
