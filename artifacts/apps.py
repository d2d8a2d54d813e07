from django.apps import AppConfig


class ArtifactsConfig(AppConfig):
    name = "artifacts"
    default_auto_field = "django.db.models.BigAutoField"

    def team_name_conflict(self, *, org, name: str) -> str | None:
        """accounts.services.team_name_conflict asks every app: an org-level container repository
        `<org>/<name>/...` stays org-level for good, so no team may take `<name>` while it exists."""
        from artifacts.selectors import org_repository_under

        repository = org_repository_under(org, name)
        if repository is None:
            return None
        return (
            f"Team '{name}' cannot be created in org '{org.name}': the org-level container repository "
            f"'{repository.name}' already uses that name. Delete it first, or choose another team name."
        )
