"""The portal's GPU host pages (artifacts.gpu.pages); `/gpu-hosts` opens the current org's."""
from django.urls import path

from artifacts.gpu import pages

app_name = "gpu"

urlpatterns = [
    path("gpu-hosts", pages.hosts_current, name="hosts-current"),
    path("org/<str:org>/gpu-hosts", pages.hosts, name="hosts"),
    path("org/<str:org>/gpu-hosts/new", pages.host_add, name="host-add"),
    path("org/<str:org>/gpu-hosts/<str:name>/edit", pages.host_edit, name="host-edit"),
    path("org/<str:org>/gpu-hosts/<str:name>/delete", pages.host_delete, name="host-delete"),
]
