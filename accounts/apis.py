"""The NGC API's identity endpoints (reference/ngc-api.md §2-§5.1), at the host root.

How a request is decided:
1. Authentication (settings): a Bearer token from `/token` (audience "ngc") or the portal session
   (DRF keeps CSRF for sessions; Bearer requests need none).
2. `org_space()` below, used by every view under an org: the policy finds the space (404 for what
   the caller may not see), then a token must carry a scope for that org (or that team): a token
   obtained for org A is refused on org B's paths even when its owner belongs to both.
3. The services decide writes (AccessDenied → 403), the selectors decide reads.
"""
from datetime import timedelta
from urllib.parse import unquote

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions, selectors, services
from accounts.authentication import token_reaches
from accounts.tokens import TokenClaims
from registry_portal.errors import AccessDenied, InvalidInput, NotFound
from accounts.models import Invitation
from accounts.permissions import Action, Space
from accounts.serializers import (
    InvitationCreateInput,
    InvitationDeleteInput,
    InvitationOutput,
    OrgOutput,
    RoleDefinitionOutput,
    TeamCreateInput,
    TeamOutput,
    TeamUpdateInput,
    UserOutput,
    role_definitions,
)
from registry_portal import json_input
from registry_portal.api import PAGE_PARAMETERS, STATUS_ONLY, ok, paginated, pagination_schema, wrapped_schema

def org_space(request, org_name: str, team_name: str | None = None) -> Space:
    """The space an org-scoped API request targets, checked by the policy and by the token's scopes.

    NVIDIA's client (ngcsdk 4.37.0) asks for a token scoped to the org (and team) of almost every call
    under /v2/org/…, /v2/orgs/<org> and /v3/orgs/…, but not all: the upload's file commit
    (`POST /v2/org/<org>/files/commit`) goes with an unscoped token. So scopes only narrow: a token
    that names group scopes reaches only those spaces, an unscoped one every space its user may see.
    """
    space = permissions.get_space(request.user, org_name, team_name)
    claims = request.auth if isinstance(request.auth, TokenClaims) else None
    if not token_reaches(claims, space):
        raise AccessDenied(
            f"This token was not issued for {space.path}; request one with scope group/ngc:{space.path} from /token."
        )
    return space


# --- unauthenticated ------------------------------------------------------------------------------------


class ProductsApi(APIView):
    """`GET /v2/products`: NVIDIA's client calls it without credentials once a day and fails without it."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("Products", {"products": drf_serializers.ListField()}))
    def get(self, request):
        return Response({"products": []})


class RolesApi(APIView):
    """`GET /roles?show-hidden=true|false`: role names and what they allow (the client checks `--role`
    against these names). No role is hidden, so both answers hold every role and legacy alias."""

    @extend_schema(
        parameters=[OpenApiParameter("show-hidden", bool)],
        responses=inline_serializer("Roles", {"roles": RoleDefinitionOutput(many=True)}),
    )
    def get(self, request):
        return ok(roles=role_definitions())


# --- orgs and the caller ---------------------------------------------------------------------


class OrgListApi(APIView):
    """`GET /v2/orgs`: the orgs the caller belongs to."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=pagination_schema("OrgList", "organizations", OrgOutput))
    def get(self, request):
        return paginated(request, selectors.orgs_of(request.user), key="organizations", serializer=OrgOutput)


class OrgDetailApi(APIView):
    @extend_schema(responses=wrapped_schema("OrgDetail", "organizations", OrgOutput))
    def get(self, request, org: str):
        space = org_space(request, org)
        return ok(organizations=OrgOutput(space.org).data)


class MeApi(APIView):
    """`GET /v2/users/me[?org-name=]`: the caller, with their roles (in that org only, if given)."""

    @extend_schema(parameters=[OpenApiParameter("org-name", str)], responses=wrapped_schema("Me", "user", UserOutput))
    def get(self, request):
        org_name = request.query_params.get("org-name")
        org = permissions.get_space(request.user, org_name).org if org_name else None
        return ok(user=UserOutput(selectors.me_with_roles(user=request.user, org=org)).data)


# --- teams -----------------------------------------------------------------------------------


class TeamListApi(APIView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses=pagination_schema("TeamList", "teams", TeamOutput))
    def get(self, request, org: str):
        space = org_space(request, org)
        return paginated(request, selectors.teams_of(actor=request.user, space=space), key="teams", serializer=TeamOutput)

    @extend_schema(request=TeamCreateInput, responses=wrapped_schema("TeamCreated", "team", TeamOutput))
    def post(self, request, org: str):
        space = org_space(request, org)
        data = _valid(TeamCreateInput, request.data)
        team = services.team_create(org=space.org, actor=request.user, name=data["name"], description=data["description"])
        return ok(team=TeamOutput(team).data)


class TeamDetailApi(APIView):
    @extend_schema(responses=wrapped_schema("TeamDetail", "team", TeamOutput))
    def get(self, request, org: str, team: str):
        space = org_space(request, org, team)
        return ok(team=TeamOutput(space.team).data)

    @extend_schema(request=TeamUpdateInput, responses=wrapped_schema("TeamUpdated", "team", TeamOutput))
    def patch(self, request, org: str, team: str):
        space = org_space(request, org, team)
        data = _valid(TeamUpdateInput, request.data)
        updated = services.team_update(team=space.team, actor=request.user, description=data["description"])
        return ok(team=TeamOutput(updated).data)

    @extend_schema(responses=STATUS_ONLY)
    def delete(self, request, org: str, team: str):
        space = org_space(request, org, team)
        services.team_delete(team=space.team, actor=request.user)
        return ok()


# --- users -----------------------------------------------------------------------------------


def _email_filter(request) -> str | None:
    """The e-mail of NGC's `q={"filters":[{"field":"email","value":"<url-quoted e-mail>"}]}`."""
    raw = request.query_params.get("q")
    if not raw:
        return None
    try:
        filters = json_input.loads(raw).get("filters") or []
    except (ValueError, AttributeError):
        raise InvalidInput("q must be a JSON object with a 'filters' list.", field="q") from None
    for item in filters:
        if isinstance(item, dict) and item.get("field") == "email":
            return unquote(str(item.get("value", "")))
    return None


class UserListApi(APIView):
    """`GET /v2/org/<org>[/team/<team>]/users[?q=<email filter>]`."""

    @extend_schema(
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("q", str, description='{"filters":[{"field":"email","value":...}]}')],
        responses=pagination_schema("UserList", "users", UserOutput),
    )
    def get(self, request, org: str, team: str | None = None):
        space = org_space(request, org, team)
        members = selectors.members_of(actor=request.user, space=space, email=_email_filter(request))
        return paginated(request, members, key="users", serializer=UserOutput)


class UserDetailApi(APIView):
    """`GET /v2/org/<org>/users/<id>`, `GET|DELETE /v3/orgs/<org>[/teams/<team>]/users/<id or email>`."""

    @extend_schema(responses=wrapped_schema("UserDetail", "user", UserOutput))
    def get(self, request, org: str, user: str, team: str | None = None):
        space = org_space(request, org, team)
        return ok(user=UserOutput(selectors.member_detail(actor=request.user, space=space, identifier=user)).data)

    @extend_schema(responses=STATUS_ONLY)
    def delete(self, request, org: str, user: str, team: str | None = None):
        space = org_space(request, org, team)
        target = _target(request, space, user)
        services.member_remove(actor=request.user, space=space, user=target)
        return ok()


def _target(request, space: Space, identifier: str):
    # Callers who may not manage users learn nothing about who is a member.
    permissions.require(request.user, Action.MANAGE_USERS, space)
    return selectors.member_lookup(space=space, identifier=identifier)


def _roles_param(request) -> list[str]:
    names = [name for value in request.query_params.getlist("roles") for name in value.split(",") if name.strip()]
    if not names:
        raise InvalidInput("Name at least one role with ?roles=.", field="roles")
    return services.roles_from_names(names)


ROLES_PARAMETER = OpenApiParameter("roles", str, many=True, required=True)


class UserAddRoleApi(APIView):
    """`PATCH /v3/orgs/<org>[/teams/<team>]/users/<id or email>/add-role?roles=R1&roles=R2`.

    NVIDIA's client also sends `NV-actor-ID` (the caller's starfleetId); the token already says who acts.
    """

    @extend_schema(parameters=[ROLES_PARAMETER], request=None, responses=wrapped_schema("UserRolesAdded", "user", UserOutput))
    def patch(self, request, org: str, user: str, team: str | None = None):
        space = org_space(request, org, team)
        roles = _roles_param(request)
        target = _target(request, space, user)
        services.role_add(actor=request.user, space=space, user=target, roles=roles)
        return ok(user=UserOutput(selectors.member_lookup(space=space, identifier=str(target.pk))).data)


class UserRemoveRoleApi(APIView):
    """`DELETE /v3/orgs/<org>[/teams/<team>]/users/<id or email>/remove-role?roles=…`."""

    @extend_schema(parameters=[ROLES_PARAMETER], responses=STATUS_ONLY)
    def delete(self, request, org: str, user: str, team: str | None = None):
        space = org_space(request, org, team)
        roles = _roles_param(request)
        target = _target(request, space, user)
        remaining = services.role_remove(actor=request.user, space=space, user=target, roles=roles)
        return ok(roles=remaining)


# --- invitations -----------------------------------------------------------------------------


class InvitationApi(APIView):
    """`POST /v3/orgs/<org>/invitations` (invite by e-mail) and `DELETE` with `{"email"}` (revoke)."""

    @extend_schema(request=InvitationCreateInput, responses=wrapped_schema("InvitationCreated", "invitation", InvitationOutput))
    def post(self, request, org: str):
        space = org_space(request, org)
        data = _valid(InvitationCreateInput, request.data)
        org_roles = [role["name"] for role in data["roles"] if not role["resourceGroups"]]
        team_roles = [role["name"] for role in data["roles"] if role["resourceGroups"]]
        team_names = {name for role in data["roles"] for name in role["resourceGroups"]}
        team = org_space(request, org, team_names.pop()).team if team_names else None
        minutes = data.get("invitationExpirationIn")
        invitation = services.invitation_create(
            actor=request.user, org=space.org, email=data["email"], name=data["name"], org_roles=org_roles,
            team=team, team_roles=team_roles, message=data["message"],
            expires_in=timedelta(minutes=minutes) if minutes else None,
        )
        return ok(invitation=InvitationOutput(invitation).data)

    @extend_schema(request=InvitationDeleteInput, responses=STATUS_ONLY)
    def delete(self, request, org: str):
        space = org_space(request, org)
        email = _valid(InvitationDeleteInput, request.data)["email"]
        pending = Invitation.objects.filter(org=space.org, email__iexact=email, accepted_at__isnull=True)
        found = list(pending.select_related("org", "team"))
        if not found:
            raise NotFound(f"No pending invitation for {email} in org '{space.org.name}'.")
        for invitation in found:
            services.invitation_revoke(actor=request.user, invitation=invitation)
        return ok()


class PendingInvitationListApi(APIView):
    """`GET /v3/orgs/<org>[/teams/<team>]/pending-invitations`."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=pagination_schema("InvitationList", "invitations", InvitationOutput))
    def get(self, request, org: str, team: str | None = None):
        space = org_space(request, org, team)
        invitations = selectors.pending_invitations(actor=request.user, space=space)
        return paginated(request, invitations, key="invitations", serializer=InvitationOutput)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data

