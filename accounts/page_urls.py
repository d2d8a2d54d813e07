"""The web portal's identity pages. Space-scoped pages name their space in the path
(/org/<org>/... and /org/<org>/team/<team>/...), so links are shareable and the policy
answers 404 for spaces a user may not see; the top-bar switcher only changes the session's default."""
from django.urls import path

from accounts import pages, sso_views

app_name = "accounts"


def _space_routes(suffix: str, view, name: str) -> list:
    """The same page for an org space and for a team space."""
    return [
        path(f"org/<str:org>/{suffix}", view, name=f"org-{name}"),
        path(f"org/<str:org>/team/<str:team>/{suffix}", view, name=f"team-{name}"),
    ]


urlpatterns = [
    path("", pages.home, name="home"),
    # Sign-in, sign-out and invitations route by e-mail domain first (SSO), then to accounts.pages.
    path("accounts/signin", sso_views.signin, name="signin"),
    path("accounts/signout", sso_views.signout, name="signout"),
    path("accounts/invitations/<str:token>", sso_views.invitation, name="invitation"),
    path("accounts/sso/callback", sso_views.callback, name="sso-callback"),
    path("org/<str:org>/settings/sso", sso_views.settings_page, name="sso-settings"),
    path("accounts/verify-email", pages.verify_email_sent, name="verify-email-sent"),
    path("accounts/verify-email/<str:token>", pages.verify_email, name="verify-email"),
    path("accounts/preferences", pages.preferences, name="preferences"),
    path("accounts/set-organization", pages.set_organization, name="set-organization"),
    path("accounts/switch-space", pages.switch_space, name="switch-space"),
    path("dashboard", pages.dashboard, name="dashboard"),
    path("users", pages.users_current, name="users"),
    path("teams", pages.teams_current, name="teams"),
    *_space_routes("users", pages.users, "users"),
    *_space_routes("users/invite", pages.invite, "invite"),
    *_space_routes("users/invitations/<int:invitation_id>/<str:action>", pages.invitation_action, "invitation-action"),
    *_space_routes("users/<int:user_id>/edit", pages.member_edit, "member-edit"),
    *_space_routes("users/<int:user_id>/remove", pages.member_remove, "member-remove"),
    path("org/<str:org>/teams", pages.teams, name="org-teams"),
    path("org/<str:org>/teams/new", pages.team_create, name="team-create"),
    path("org/<str:org>/team/<str:team>", pages.team_detail, name="team-detail"),
    path("org/<str:org>/team/<str:team>/add-user", pages.team_add_user, name="team-add-user"),
    path("setup/api-key", pages.api_key, name="api-key"),
]
