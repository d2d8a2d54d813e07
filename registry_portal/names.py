"""The name grammar of NGC paths: org, team, model, resource and Helm chart names are one URL
segment of 1-64 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or
digit. It lives here, below every app, so models, forms, services and URL converters share it.
(Container repository names follow the OCI grammar instead: artifacts.oci.names.)"""
from django.core.validators import RegexValidator

# Unanchored, for URL converters; NAME_PATTERN is the anchored form for validators and re.match.
NAME_GRAMMAR = r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?"
NAME_PATTERN = rf"^{NAME_GRAMMAR}$"
NAME_RULE = "Use 1-64 lowercase letters, digits, '-', '_' or '.', starting and ending with a letter or digit."
name_validator = RegexValidator(NAME_PATTERN, NAME_RULE)
