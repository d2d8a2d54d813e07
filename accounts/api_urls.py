from django.urls import path

from accounts import apis

urlpatterns = [
    path("v2/products", apis.ProductsApi.as_view(), name="api-products"),
]
