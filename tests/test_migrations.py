"""Every model change ships with its migration."""
import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # --check exits non-zero when a migration is missing
        pytest.fail(f"a model change has no migration (exit {exc.code}):\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_an_installation_migrated_through_the_old_chains_is_up_to_date():
    """Each app's migrations were squashed into one that `replaces` the old chain. A database that
    ran the old files records only their names; Django must see it as fully migrated (no
    operation planned), so upgrading an installation at the last release runs nothing twice."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    squashed = [key for key, migration in MigrationLoader(connection).disk_migrations.items() if migration.replaces]
    assert {app for app, _ in squashed} >= {"accounts", "artifacts", "helmrepo"}
    recorder = MigrationRecorder(connection)
    for app, name in squashed:  # what an installation migrated by the old files holds
        recorder.record_unapplied(app, name)
    assert not any(key in recorder.applied_migrations() for key in squashed)

    executor = MigrationExecutor(connection)
    assert all(key in executor.loader.applied_migrations for key in squashed)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
