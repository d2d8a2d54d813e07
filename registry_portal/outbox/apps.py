from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "registry_portal.outbox"
    label = "outbox"  # its tables and migrations keep the name they were created with
    default_auto_field = "django.db.models.BigAutoField"
