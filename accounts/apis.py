"""The NGC API's identity endpoints (reference/ngc-api.md §2-§5.1)."""
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class ProductsApi(APIView):
    """`GET /v2/products`: NVIDIA's client calls it without credentials once a day and fails without it."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"products": []})
