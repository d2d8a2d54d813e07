"""The page flows the portal's artifact pages share (containers, models/resources, Helm charts, GPU
hosts): an address split into its space and name, a rendered overview, a form page that saves through
a service (Edit Details among them), and a delete confirmation. Views stay thin: they say what to read, save or delete, and
these helpers do the request/response part the same way everywhere.
"""
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe

from artifacts.logos import logo_changes
from artifacts.markdown import render_markdown
from registry_portal.errors import RegistryError
from registry_portal.web_gate import form_error


def split_ref(ref: str) -> tuple[str, str | None, str]:
    """`<org>/<name>` or `<org>/<team>/<name>` (the `ref` path converter) → (org, team, name)."""
    parts = ref.split("/")
    return (parts[0], None, parts[1]) if len(parts) == 2 else (parts[0], parts[1], parts[2])


def markdown_html(text: str) -> SafeString:
    """An overview or documentation text as the page shows it."""
    return mark_safe(render_markdown(text))  # noqa: S308 (render_markdown sanitises)


def search_term(request: HttpRequest) -> str:
    """The list's `?q=` search term."""
    return request.GET.get("q", "").strip()


def paginate(request: HttpRequest, rows, size: int) -> Page:
    """The `?page=` page of `rows` (the last for a number past it, the first for anything else)."""
    return Paginator(rows, size).get_page(request.GET.get("page"))


def form_page(
    request: HttpRequest, form: Form, save: Callable[[], Any], *, template: str, context: dict,
    success: Callable[[Any], str], done_url: Callable[[Any], str], field_names: dict | None = None,
) -> HttpResponse:
    """A form that saves through a service: shown on GET and on errors (a service's refusal lands on
    its field), and on success a message and a redirect, both told what `save()` returned."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save()
        except RegistryError as exc:
            form_error(form, exc, field_names=field_names)
        else:
            messages.success(request, success(saved))
            return redirect(done_url(saved))
    return render(request, template, {**context, "form": form})


def details_page(
    request: HttpRequest, form: Form, update: Callable[..., Any], *, subject: str, template: str, context: dict,
    done_url: str, field_names: dict | None = None,
) -> HttpResponse:
    """Edit Details of an artifact: the form's changes (a new logo stored first) go to `update(**changes)`."""
    return form_page(
        request, form, lambda: update(**logo_changes(form, form.changes())), template=template, context=context,
        field_names=field_names, success=lambda _: f"Saved the details of {subject}.", done_url=lambda _: done_url,
    )


def delete_page(
    request: HttpRequest, delete: Callable[[], Any], *, template: str, context: Callable[[], dict],
    success: str, done_url: str,
) -> HttpResponse:
    """A delete confirmation: GET shows `context()` (what goes), POST deletes, says so and redirects."""
    if request.method == "POST":
        delete()
        messages.success(request, success)
        return redirect(done_url)
    return render(request, template, context())
