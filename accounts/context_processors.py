"""Template context for the top bar and the navigation: the current space, the spaces the user may
switch to, and which links the user's roles can use (the predicates the services check)."""
from functools import cache

from accounts.permissions import Action, Space, can, held_roles, visible_orgs, visible_teams
from accounts.roles import Role, Service

# The services a "Create" link leads to (the Entity Creation Hub's cards).
CREATABLE = (Service.MODEL, Service.MODELSCRIPT, Service.HELM, Service.CONTAINER)


def navigation(user, space) -> dict:
    """Links shown only to those who can use them: a link that answers 403 is not offered."""
    if space is None:
        return {"users": False, "create": False}
    return {
        "users": can(user, Action.VIEW_USERS, space),
        "create": any(can(user, Action.WRITE, space, service=service) for service in CREATABLE),
    }


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
        "nav": cache(lambda: navigation(request.user, space)),  # a template looks it up several times
    }
