"""Helpers for the web portal's tests: personas past onboarding, signed-in test clients."""
from django.test import Client

from accounts import services
from accounts.middleware import SESSION_ORG, SESSION_TEAM
from accounts.permissions import Space


def onboard(*users) -> None:
    """Mark users as past the "Almost done!" step (personas are created verified)."""
    for user in users:
        services.user_update_preferences(user=user, product_news_opt_in=False)


def client_for(user, space: Space | None = None) -> Client:
    """A test client signed in as `user`, working in `space` (as if chosen on Set your organization)."""
    client = Client()
    client.force_login(user)
    if space is not None:
        session = client.session
        session[SESSION_ORG] = space.org.name
        if space.team:
            session[SESSION_TEAM] = space.team.name
        session.save()
    return client
