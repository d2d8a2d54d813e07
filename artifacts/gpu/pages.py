"""The portal's GPU host pages (docs/gpu-hosts.md): the org's hosts, Add / Edit / Delete.

Reading needs membership of the org (`get_space`: anyone else gets a 404); the buttons show only for
those who may manage hosts, and the services refuse everyone else anyway (403 pages via `portal_page`).
"""
from django.shortcuts import redirect, render
from django.urls import reverse

from registry_portal.errors import AccessDenied
from accounts.permissions import get_space
from registry_portal.web_gate import portal_page
from artifacts.gpu import selectors, services
from artifacts.gpu.forms import GpuHostForm
from artifacts.web.page_flows import delete_page, form_page


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
    return _host_form(request, org, None)


@portal_page
def host_edit(request, org: str, name: str):
    return _host_form(request, org, name)


def _host_form(request, org: str, name: str | None):
    """Add GPU host (no `name`) or edit the host `name`; either way the org's images are checked again."""
    context = _context(request, org)
    host = services.host_get(context["space"].org, name) if name else None
    _require_manage(context)
    form = GpuHostForm(request.POST or None, host=host)
    if host is None:
        def save():
            return services.host_create(actor=request.user, org=context["space"].org, name=form.cleaned_data["name"], **form.changes())
        done = "Added GPU host {}; the org's images are being checked against it."
    else:
        def save():
            return services.host_update(actor=request.user, host=host, **form.changes())
        done = "Saved GPU host {}; the org's images are being checked again."
    return form_page(
        request, form, save, template="artifacts/gpu/host_form.html", context={**context, "host": host},
        success=lambda saved: done.format(saved.name), done_url=lambda _: reverse("gpu:hosts", args=[org]),
    )


@portal_page
def host_delete(request, org: str, name: str):
    context = _context(request, org)
    host = services.host_get(context["space"].org, name)
    _require_manage(context)
    return delete_page(
        request, lambda: services.host_delete(actor=request.user, host=host), template="artifacts/gpu/host_delete.html",
        context=lambda: {**context, "host": host, "verdict_count": host.verdicts.count()},
        success=f"Deleted GPU host {name}.", done_url=reverse("gpu:hosts", args=[org]),
    )
