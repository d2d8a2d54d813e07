"""The project package. Unlike Celery's Django guide, it does not import the Celery app: the apps
declare their tasks with registry_portal.background, so a web process runs them without Celery, and
`celery -A registry_portal` finds the app in registry_portal.celery."""
