from django.apps import AppConfig
from django.db.backends.signals import connection_created


def _forget_content_type_ids(**kwargs) -> None:
    """guardian's API (accounts.permissions) filters by content type ids, which Django caches per
    process; another process may re-create them with new ids (a test flush under a live server, a
    restore). So the ids are trusted for one database connection: a new one reads them again
    (one query per model, on the first permission check of the connection)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(_forget_content_type_ids, dispatch_uid="accounts.forget_content_type_ids")
