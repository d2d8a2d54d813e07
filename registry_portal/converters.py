"""The path converters every URL module uses, registered once (on import of this module).

Each only narrows what a path segment may be, so a malformed name answers 404 before any view;
values pass through unchanged.
"""
from django.urls import register_converter

from registry_portal.names import NAME_GRAMMAR

# A registry name component (OCI distribution spec's grammar).
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
# An org, team, model, resource or chart name in a portal address.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"

# The NGC API's space prefixes: (scope for URL names, route prefix).
SPACES = (("org", "v2/org/<str:org>"), ("team", "v2/org/<str:org>/team/<str:team>"))


class _RegexConverter:
    """A segment matched by `regex`, passed through as text."""

    regex: str

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def _converter(name: str, regex: str) -> None:
    register_converter(type(f"{name}_converter", (_RegexConverter,), {"regex": regex}), name)


# A repository path within its space (`a` or `a/b`): the NGC API's `repos/<repo_path>`.
_converter("repo_path", rf"{_COMPONENT}(?:/{_COMPONENT})*")
# A repository's full registry name, `<org>/<path...>` (at least two components): the portal's address.
_converter("repository", rf"{_COMPONENT}(?:/{_COMPONENT})+")
# An image tag (OCI distribution spec).
_converter("tag", r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# A model, resource or chart address, `<org>/<name>` or `<org>/<team>/<name>` (its `resource_id`).
_converter("ref", rf"{_SEGMENT}(?:/{_SEGMENT}){{1,2}}")
# A model or resource version.
_converter("version", r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
# A Helm chart version (SemVer 2 characters).
_converter("chart_version", r"[0-9A-Za-z][0-9A-Za-z.+-]{0,127}")
# An org, team or chart name in the Helm repository's paths.
_converter("helm_segment", NAME_GRAMMAR)
