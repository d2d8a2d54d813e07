from django.apps import AppConfig


class HelmrepoConfig(AppConfig):
    name = "helmrepo"
    default_auto_field = "django.db.models.BigAutoField"
