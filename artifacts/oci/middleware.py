"""Registry protocol requests skip the portal's middleware.

The container registry authenticates every request itself (Bearer tokens from /token, see
artifacts.oci.auth) and uses neither sessions, the portal's user, messages, CSRF (its views are
exempt), static files nor the portal's current org/team. Running that middleware anyway cost
about a fifth of a manifest GET (docs/performance.md), so this middleware, placed after
SecurityMiddleware (HSTS, nosniff, SSL redirect still apply) and HelmHostMiddleware, sends
paths the registry's route table matches straight to their view.

The registry's routes come first in the root urlconf and end in registry suffixes, so a path
matched here is routed to the same view as it would be through the whole stack.
"""
from django.urls import Resolver404, get_resolver

REGISTRY_PREFIX = "/v2/"


class RegistryRouteMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.resolver = get_resolver("artifacts.oci.protocol_urls")

    def __call__(self, request):
        # request.urlconf set: another host's routes (HELM_HOST) apply, not the registry's.
        if request.path_info.startswith(REGISTRY_PREFIX) and getattr(request, "urlconf", None) is None:
            try:
                match = self.resolver.resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            request.resolver_match = match
            return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
