"""Serve the Helm repository at the root of settings.HELM_HOST (NVIDIA's client pushes and pulls
charts at `https://<helm host>/api/<org>/charts` and `/<org>/charts/<file>`)."""
from django.conf import settings
from django.http.request import split_domain_port

from registry_portal.server_errors import HELM_HOST_URLCONF


class HelmHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        helm_host = settings.HELM_HOST
        if helm_host and split_domain_port(request.get_host())[0] == helm_host:
            request.urlconf = HELM_HOST_URLCONF
        return self.get_response(request)
