"""The portal's GPU host pages (docs/gpu-hosts.md): the org's hosts, Add / Edit / Delete.

Reading needs membership of the org (`get_space`: anyone else gets a 404); the buttons show only for
those who may manage hosts, and the services refuse everyone else anyway (403 pages via `portal_page`).
"""
from django.contrib import messages
from django.shortcuts import redirect, render

from registry_portal.errors import AccessDenied, RegistryError
from accounts.permissions import get_space
from registry_portal.web_gate import form_error, portal_page
from artifacts.gpu import selectors, services
from artifacts.gpu.forms import GpuHostForm


def _context(request, org: str) -> dict:
    space = get_space(request.user, org)
    return {"space": space, "can_manage": services.may_manage_hosts(request.user, space.org)}


def _require_manage(context) -> None:
    if not context["can_manage"]:
        raise AccessDenied(f"Managing GPU hosts of {context['space'].org.name} needs Registry Admin at org level.")



@portal_page
def hosts_current(request):
    return redirect("gpu:hosts", request.get_current_space().org.name)


@portal_page
def hosts(request, org: str):
    context = _context(request, org)
    return render(request, "artifacts/gpu/hosts.html", {**context, "hosts": list(selectors.org_hosts(context["space"].org))})


@portal_page
def host_add(request, org: str):
    context = _context(request, org)
    _require_manage(context)
    form = GpuHostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            host = services.host_create(actor=request.user, org=context["space"].org, name=form.cleaned_data["name"], **form.changes())
        except RegistryError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Added GPU host {host.name}; the org's images are being checked against it.")
            return redirect("gpu:hosts", org)
    return render(request, "artifacts/gpu/host_form.html", {**context, "form": form, "host": None})


@portal_page
def host_edit(request, org: str, name: str):
    context = _context(request, org)
    host = services.host_get(context["space"].org, name)
    _require_manage(context)
    form = GpuHostForm(request.POST or None, host=host)
    if request.method == "POST" and form.is_valid():
        try:
            services.host_update(actor=request.user, host=host, **form.changes())
        except RegistryError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Saved GPU host {host.name}; the org's images are being checked again.")
            return redirect("gpu:hosts", org)
    return render(request, "artifacts/gpu/host_form.html", {**context, "form": form, "host": host})


@portal_page
def host_delete(request, org: str, name: str):
    context = _context(request, org)
    host = services.host_get(context["space"].org, name)
    _require_manage(context)
    if request.method == "POST":
        services.host_delete(actor=request.user, host=host)
        messages.success(request, f"Deleted GPU host {name}.")
        return redirect("gpu:hosts", org)
    return render(request, "artifacts/gpu/host_delete.html", {**context, "host": host, "verdict_count": host.verdicts.count()})
