"""The OCI Distribution Spec (v1.1) protocol: routes (protocol_urls.py), handlers (views.py), the error
envelope (errors.py), token scopes and request auth (auth.py), repository names (names.py)."""
