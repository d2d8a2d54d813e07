"""Keeps the web portal's current org/team (the top-bar switcher) on the request."""
from accounts.models import Org, Team
from accounts.permissions import Action, Space, can

SESSION_ORG = "current_org"
SESSION_TEAM = "current_team"


def current_space_from_session(request) -> Space | None:
    """The space chosen on "Set your organization", if the user may still see it."""
    user = request.user
    if not user.is_authenticated:
        return None
    org_name = request.session.get(SESSION_ORG)
    org = Org.objects.filter(name=org_name).first() if org_name else None
    if org is None or not can(user, Action.VIEW_SPACE, Space(org)):
        return None
    team_name = request.session.get(SESSION_TEAM)
    if team_name:
        team = Team.objects.filter(org=org, name=team_name).first()
        if team is not None and can(user, Action.VIEW_SPACE, Space(org, team)):
            return Space(org, team)
    return Space(org)


class CurrentSpaceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request._cached_space = None

        def lazy_space():
            if request._cached_space is None:
                request._cached_space = (current_space_from_session(request),)
            return request._cached_space[0]

        request.get_current_space = lazy_space
        return self.get_response(request)
