"""Routes of the NGC API, at the host root: NVIDIA's client joins absolute paths (`/v2/...`,
`/v3/...`) and the relative `roles`/`token` to the configured base URL. No trailing slashes."""
from django.urls import path

from accounts import apis

ORG = "v2/org/<str:org>"
ORGS3 = "v3/orgs/<str:org>"

urlpatterns = [
    path("roles", apis.RolesApi.as_view(), name="api-roles"),
    path("v2/products", apis.ProductsApi.as_view(), name="api-products"),
    path("v2/orgs", apis.OrgListApi.as_view(), name="api-orgs"),
    path("v2/orgs/<str:org>", apis.OrgDetailApi.as_view(), name="api-org"),
    path("v2/users/me", apis.MeApi.as_view(), name="api-me"),
    # teams
    path(f"{ORG}/teams", apis.TeamListApi.as_view(), name="api-teams"),
    path(f"{ORG}/teams/<str:team>", apis.TeamDetailApi.as_view(), name="api-team"),
    # users (v2: lists and org-level details)
    path(f"{ORG}/users", apis.UserListApi.as_view(), name="api-org-users"),
    path(f"{ORG}/team/<str:team>/users", apis.UserListApi.as_view(), name="api-team-users"),
    path(f"{ORG}/users/<str:user>", apis.UserDetailApi.as_view(), name="api-org-user-v2"),
    # users (v3: details, roles, removal; <user> is a numeric id or an e-mail)
    path(f"{ORGS3}/users/<str:user>", apis.UserDetailApi.as_view(), name="api-org-user"),
    path(f"{ORGS3}/teams/<str:team>/users/<str:user>", apis.UserDetailApi.as_view(), name="api-team-user"),
    path(f"{ORGS3}/users/<str:user>/add-role", apis.UserAddRoleApi.as_view(), name="api-org-user-add-role"),
    path(f"{ORGS3}/teams/<str:team>/users/<str:user>/add-role", apis.UserAddRoleApi.as_view(), name="api-team-user-add-role"),
    path(f"{ORGS3}/users/<str:user>/remove-role", apis.UserRemoveRoleApi.as_view(), name="api-org-user-remove-role"),
    path(
        f"{ORGS3}/teams/<str:team>/users/<str:user>/remove-role", apis.UserRemoveRoleApi.as_view(),
        name="api-team-user-remove-role",
    ),
    # invitations
    path(f"{ORGS3}/invitations", apis.InvitationApi.as_view(), name="api-invitations"),
    path(f"{ORGS3}/pending-invitations", apis.PendingInvitationListApi.as_view(), name="api-org-pending-invitations"),
    path(
        f"{ORGS3}/teams/<str:team>/pending-invitations", apis.PendingInvitationListApi.as_view(),
        name="api-team-pending-invitations",
    ),
]
