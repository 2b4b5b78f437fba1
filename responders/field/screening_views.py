"""The field app's pages for forms recorded on an encounter (#22): a safety plan printed for
the person in English or Spanish, and sent to them by text when they ask for it. The forms
themselves are filled in on the encounter form (static/field/app/forms.js)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from acs.errors import DomainError
from cases.models import FormDefinition
from cases.screening import selectors, services
from responders.field.views import _private, _shell_context, field_page


def _safety_plan(request: HttpRequest, public_id: uuid.UUID, via: str):
    response = (
        selectors.form_response_queryset_for_user(request.user).filter(public_id=public_id).first()
    )
    if response is None:
        raise Http404
    if response.version.definition.purpose != FormDefinition.Purpose.SAFETY_PLAN:
        raise Http404
    selectors.form_response_read_audit(request.user, response, request=request, via=via)
    return response


@field_page
@require_GET
def safety_plan_print(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The person's copy, to print or show: their steps in their words, in the language
    chosen (?lang=en|es; by default the one chosen on the form). Never cached."""
    response = _safety_plan(request, public_id, via="field_print")
    language = request.GET.get("lang") or response.language
    language = language if language in ("en", "es") else "en"
    with translation.override(language):
        rows = selectors.plan_rows(response, language)
        context = _shell_context(request)
        context.update(
            response=response,
            rows=rows,
            language=language,
            other_language="es" if language == "en" else "en",
        )
        page = render(request, "responders/field/safety_plan.html", context)
    return _private(page)


@field_page
@require_POST
def safety_plan_text(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    response = _safety_plan(request, public_id, via="field_text")
    try:
        services.safety_plan_send_text(actor=request.user, response=response, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The plan will be texted to them."))
    return redirect("field:encounter", public_id=response.encounter.public_id)
