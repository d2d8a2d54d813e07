"""The project package. Celery's app is not imported here, as Celery's Django guide has it: a web
process runs its tasks without Celery (registry_portal/background.py)."""
