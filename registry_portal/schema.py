"""OpenAPI generation tweaks (drf-spectacular)."""
import re

from drf_spectacular.openapi import AutoSchema


class PathOperationIdSchema(AutoSchema):
    """Operation ids from the whole path, parameters included.

    The NGC API serves one view at an org path and at a team path, and a list and a detail at
    `/users` and `/users/{user}`; spectacular's default ids drop path parameters and collide.
    """

    def get_operation_id(self) -> str:
        path = re.sub(r"\{(\w+)\}", r"by_\1", self.path.strip("/"))
        words = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
        return f"{self.method.lower()}_{words}"
