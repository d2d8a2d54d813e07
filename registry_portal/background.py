"""Background tasks, declared without importing Celery.

A web process runs most tasks itself (every task in the embedded default, `inline` outbox work,
the in-process scheduler) and needs only their functions. Celery with kombu, billiard and click
costs ~9 MB per process (docs/performance.md, Memory), so it is imported only where a broker is
spoken to: the Celery worker and beat (registry_portal.celery) and a web process's first hand-over
to Redis (registry_portal.outbox.services.outbox_dispatch).

`@task` keeps a function under Celery's default name (`<module>.<function>`) or the one given,
with Celery options (acks_late, ...) for the worker; registry_portal.celery makes a Celery task of
every declared function when the app is created, and of each one declared after.
"""
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps


@dataclass(frozen=True, eq=False)
class Task:
    name: str
    run: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, *args: Any) -> Any:
        return self.run(*args)


_tasks: dict[str, Task] = {}
_listeners: list[Callable[[Task], None]] = []


def task(*, name: str | None = None, **options: Any) -> Callable[[Callable[..., Any]], Task]:
    """Declare a background task (a thin wrapper that takes ids, loads, and calls a service)."""

    def declare(function: Callable[..., Any]) -> Task:
        declared = Task(name or f"{function.__module__}.{function.__name__}", function, options)
        _tasks[declared.name] = declared
        for listener in _listeners:
            listener(declared)
        return declared

    return declare


def on_declare(listener: Callable[[Task], None]) -> None:
    """Call `listener` with every task declared so far and with each one declared later."""
    _listeners.append(listener)
    for declared in list(_tasks.values()):
        listener(declared)


def discover() -> None:
    """Import every installed app's `tasks` module, as Celery's autodiscovery does in a worker."""
    for config in apps.get_app_configs():
        module = f"{config.name}.tasks"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)


def task_named(name: str) -> Task:
    """The declared task `name`, importing the apps' tasks modules first if needed (a web process
    imports them when it first runs one)."""
    if name not in _tasks:
        discover()
    return _tasks[name]
