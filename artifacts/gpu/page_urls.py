"""The portal's GPU host pages (artifacts.gpu.views); `/gpu-hosts` opens the current org's."""
from django.urls import path

from artifacts.gpu import views

app_name = "gpu"

urlpatterns = [
    path("gpu-hosts", views.hosts_current, name="hosts-current"),
    path("org/<str:org>/gpu-hosts", views.hosts, name="hosts"),
    path("org/<str:org>/gpu-hosts/new", views.host_add, name="host-add"),
    path("org/<str:org>/gpu-hosts/<str:name>/edit", views.host_edit, name="host-edit"),
    path("org/<str:org>/gpu-hosts/<str:name>/delete", views.host_delete, name="host-delete"),
]
