"""Celery tasks of the Helm repository (enqueued through the outbox by helmrepo.services)."""
from accounts.models import Org, Team
from accounts.permissions import Space
from helmrepo import index
from registry_portal.background import task


@task()
def bump_index_generation(org_id: int, team_id: int | None) -> None:
    """Make a space's cached index.yaml stale; nothing to do when the space is gone."""
    org = Org.objects.filter(pk=org_id).first()
    team = Team.objects.filter(pk=team_id, org_id=org_id).first() if team_id is not None else None
    if org is None or (team_id is not None and team is None):
        return
    index.bump_generation(Space(org, team))
