"""The portal's model and resource pages (artifacts/versioned/pages.py), namespace `versioned`.

An artifact is addressed by `<org>/[<team>/]<name>` (its `resource_id`); page suffixes sit behind a
`-` segment, which no org, team or artifact name can be, so they never collide with an artifact.
`registry/models/create` cannot be an artifact either: an address has at least two segments.

URL names (`model-*` for models, the same `resource-*` for resources; `ref` = `resource_id`):
- `versioned:models` / `versioned:resources`            the current space's list (`?q=` search, `?page=`)
- `versioned:model-create` / `versioned:resource-create`  the Create form (guide 4.2), in the current space
- `versioned:model` (ref)                                 Overview: header, download command, zip link
- `versioned:resource-doc` (ref, doc)                     a resource's doc tab: advanced-guide, performance,
                                                          quick-start-guide, release-notes, setup-guide
- `versioned:model-versions` (ref)                        Versions with details and metrics tables
- `versioned:model-compare` (ref) `?v=a&v=b`              metrics of two or more versions side by side
- `versioned:model-files` (ref[, version])                File Browser (`?path=dir/`, `?file=path` preview)
- `versioned:model-edit` / `-delete` (ref)                Edit Details; delete with all versions
- `versioned:model-version-delete` (ref, version)         delete one version
"""
from django.urls import path

from artifacts.versioned import pages
from artifacts.versioned.models import ArtifactKind
from registry_portal import converters  # noqa: F401 (registers the path converters used below)

app_name = "versioned"

urlpatterns = [
    path("registry/models", pages.model_list, name="models"),
    path("registry/resources", pages.resource_list, name="resources"),
]
for kind, noun in ((ArtifactKind.MODEL, "model"), (ArtifactKind.RESOURCE, "resource")):
    base = f"registry/{kind.value}"
    extra = {"kind": kind.value}
    urlpatterns += [
        path(f"{base}/create", pages.artifact_create, extra, name=f"{noun}-create"),
        path(f"{base}/<ref:ref>", pages.artifact_detail, extra, name=noun),
        path(f"{base}/<ref:ref>/-/versions", pages.artifact_versions, extra, name=f"{noun}-versions"),
        path(f"{base}/<ref:ref>/-/compare", pages.artifact_compare, extra, name=f"{noun}-compare"),
        path(f"{base}/<ref:ref>/-/versions/<version:version>", pages.artifact_version, extra, name=f"{noun}-version"),
        path(f"{base}/<ref:ref>/-/files", pages.artifact_files, extra, name=f"{noun}-files-latest"),
        path(f"{base}/<ref:ref>/-/files/<version:version>", pages.artifact_files, extra, name=f"{noun}-files"),
        path(f"{base}/<ref:ref>/-/edit", pages.artifact_edit, extra, name=f"{noun}-edit"),
        path(f"{base}/<ref:ref>/-/delete", pages.artifact_delete, extra, name=f"{noun}-delete"),
        path(
            f"{base}/<ref:ref>/-/versions/<version:version>/delete", pages.version_delete, extra,
            name=f"{noun}-version-delete",
        ),
    ]
urlpatterns.append(
    path("registry/resources/<ref:ref>/-/docs/<slug:doc>", pages.artifact_doc, {"kind": ArtifactKind.RESOURCE.value}, name="resource-doc")
)
