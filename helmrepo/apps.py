from django.apps import AppConfig


class HelmrepoConfig(AppConfig):
    name = "helmrepo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Charts join the cross-kind search and catalog that artifacts owns.
        from artifacts.core import kinds
        from helmrepo import search, selectors

        kinds.SEARCHES["HELM_CHART"] = search.search
        kinds.CATALOG_SCOPES["helm-chart"] = selectors.charts_in_search_scope
