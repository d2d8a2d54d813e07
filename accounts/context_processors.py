"""Template context for the top bar: the current space and the spaces the user may switch to."""
from accounts.permissions import Space, held_roles, visible_orgs, visible_teams
from accounts.roles import Role


def current_space(request) -> dict:
    getter = getattr(request, "get_current_space", None)
    if getter is None or not request.user.is_authenticated:
        return {}
    space = getter()
    return {
        "current_space": space,
        "switchable_orgs": lambda: list(visible_orgs(request.user)),
        "switchable_teams": (lambda: list(visible_teams(request.user, space.org))) if space else (lambda: []),
        # Only the Org Owner configures single sign-on: the nav shows the page to them alone.
        "owns_current_org": (lambda: Role.ORG_OWNER in held_roles(request.user, Space(space.org))) if space else (lambda: False),
    }
