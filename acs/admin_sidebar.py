"""The admin's navigation sidebar (on every desk page: the apps and models the user may open),
rendered once per process for each distinct list of links, page and language rather than on
every request: Django's template (admin/app_list.html) took about 3 ms of each desk page, a
tenth of a searched service list's (docs/benchmarks.md, "A desk list's rows and sidebar").
The list is still worked out for each request (AdminSite.each_context: the user's
permissions); only its rendering is kept, keyed by everything the template reads."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

# What admin/app_list.html reads of an app and of each of its models.
_APP_KEYS = ("app_label", "app_url", "name")
_MODEL_KEYS = ("object_name", "name", "admin_url", "add_url", "view_only")

Shape = tuple[tuple[tuple[Any, ...], tuple[tuple[Any, ...], ...]], ...]


def _shape(apps: list[dict[str, Any]]) -> Shape:
    return tuple(
        (
            tuple(str(app.get(key, "")) for key in _APP_KEYS),
            tuple(tuple(_value(model.get(key)) for key in _MODEL_KEYS) for model in app["models"]),
        )
        for app in apps
    )


def _value(value: Any) -> Any:
    return value if value is None or isinstance(value, bool) else str(value)


# Renderings kept, per process: a few for each desk role's list of links and each model's
# pages; emptied when full (a cache, not a record).
_KEEP = 256
_kept: dict[tuple[Any, ...], str] = {}


def _urls(shape: Shape) -> list[str | None]:
    """The links the template looks for in the page's path, in a fixed order."""
    return [url for app, models in shape for url in (app[1], *(model[2] for model in models))]


def _render(language: str | None, path: str, shape: Shape) -> str:
    """admin/app_list.html as the sidebar includes it, from the shape alone (and the path)."""
    apps = [
        {
            **dict(zip(_APP_KEYS, app, strict=True)),
            "models": [dict(zip(_MODEL_KEYS, model, strict=True)) for model in models],
        }
        for app, models in shape
    ]
    context = {"app_list": apps, "show_changelinks": False, "request": SimpleNamespace(path=path)}
    with translation.override(language):
        return render_to_string("admin/app_list.html", context)


def sidebar_app_list(request: Any, apps: list[dict[str, Any]]) -> SafeString:
    """The sidebar's list of `apps` (AdminSite.get_app_list) on the page at request.path.

    The template reads the path only to mark the page's app and model (`url in
    request.path|urlencode`), so pages marking the same links share a rendering: a record's
    change page and its list's."""
    shape = _shape(apps)
    here = quote(request.path)  # the template's urlencode filter
    marked = tuple(url is not None and url in here for url in _urls(shape))
    key = (translation.get_language(), shape, marked)
    html = _kept.get(key)
    if html is None:
        if len(_kept) >= _KEEP:
            _kept.clear()
        html = _kept[key] = _render(key[0], request.path, shape)
    return mark_safe(html)  # noqa: S308 - a template's output, escaped as it rendered
