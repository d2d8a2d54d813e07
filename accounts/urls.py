"""The web portal's identity pages. Space-scoped pages name their space in the path
(/org/<org>/... and /org/<org>/team/<team>/...), so links are shareable and the policy
answers 404 for spaces a user may not see; the top-bar switcher only changes the session's default."""
from django.urls import path

from accounts import sso_views, views

app_name = "accounts"


def _space_routes(suffix: str, view, name: str) -> list:
    """The same page for an org space and for a team space."""
    return [
        path(f"org/<str:org>/{suffix}", view, name=f"org-{name}"),
        path(f"org/<str:org>/team/<str:team>/{suffix}", view, name=f"team-{name}"),
    ]


urlpatterns = [
    path("", views.home, name="home"),
    # Sign-in, sign-out and invitations route by e-mail domain first (SSO), then to accounts.views.
    path("accounts/signin", sso_views.signin, name="signin"),
    path("accounts/signout", sso_views.signout, name="signout"),
    path("accounts/invitations/<str:token>", sso_views.invitation, name="invitation"),
    path("accounts/sso/callback", sso_views.callback, name="sso-callback"),
    path("org/<str:org>/settings/sso", sso_views.settings_page, name="sso-settings"),
    path("accounts/verify-email", views.verify_email_sent, name="verify-email-sent"),
    path("accounts/verify-email/<str:token>", views.verify_email, name="verify-email"),
    path("accounts/preferences", views.preferences, name="preferences"),
    path("accounts/set-organization", views.set_organization, name="set-organization"),
    path("accounts/switch-space", views.switch_space, name="switch-space"),
    path("dashboard", views.dashboard, name="dashboard"),
    path("users", views.users_current, name="users"),
    path("teams", views.teams_current, name="teams"),
    *_space_routes("users", views.users, "users"),
    *_space_routes("users/invite", views.invite, "invite"),
    *_space_routes("users/invitations/<int:invitation_id>/<str:action>", views.invitation_action, "invitation-action"),
    *_space_routes("users/<int:user_id>/edit", views.member_edit, "member-edit"),
    *_space_routes("users/<int:user_id>/remove", views.member_remove, "member-remove"),
    path("org/<str:org>/teams", views.teams, name="org-teams"),
    path("org/<str:org>/teams/new", views.team_create, name="team-create"),
    path("org/<str:org>/team/<str:team>", views.team_detail, name="team-detail"),
    path("org/<str:org>/team/<str:team>/add-user", views.team_add_user, name="team-add-user"),
    path("setup/api-key", views.api_key, name="api-key"),
]
