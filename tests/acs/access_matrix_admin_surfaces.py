"""The writes matrix's surfaces (tests/acs/test_access_matrix_writes.py) through the admin: records,
follow-ups, addenda, merges, exports, the audit trail, tokens and the directory."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from acs.roles import Role
from tests.acs.access_matrix_world import count


def admin_resident_change(w):
    return "get", f"/admin/cases/resident/{w.not_met[0].pk}/change/", None, None


def admin_consent(w):
    resident = w.not_met[0]
    return (
        "form",
        f"/admin/cases/resident/{resident.pk}/consent/",
        {"scope": "email", "method": "written"},
        lambda: count("cases.Consent", resident=resident, scope="email"),
    )


def admin_follow_up_change(w):
    return "get", f"/admin/cases/followup/{w.follow_up.pk}/change/", None, None


def admin_follow_up_reassign(w):
    follow_up = w.follow_up
    assignee = w.persona("case_manager")
    body = {
        "action": "reassign",
        "_selected_action": [str(follow_up.pk)],
        "apply": "1",
        "assignee": str(assignee.pk),
    }
    return (
        "form",
        "/admin/cases/followup/",
        body,
        lambda: count("cases.FollowUp", pk=follow_up.pk, assignee=assignee),
    )


def admin_addendum_add(w):
    encounter = w.submitted[1]
    return (
        "form",
        f"/admin/cases/encounter/{encounter.pk}/addendum/",
        {"text": "Matrix addendum"},
        lambda: count("cases.Addendum", encounter=encounter, text="Matrix addendum"),
    )


def admin_addendum_approve(which):
    def build(w):
        addendum = w.addendum(which)
        return (
            "form",
            f"/admin/cases/addendum/{addendum.pk}/approve/",
            {},
            lambda: count("cases.Addendum", pk=addendum.pk, approved_at__isnull=False),
        )

    return build


def export_download(whose):
    def build(w):
        author = w.persona("case_manager") if whose == "mine" else w.other_case_manager
        job = w.export(author)
        return "get", f"/admin/cases/exportjob/{job.public_id}/download/", None, None

    return build


def admin_compare_two(w):
    a, b = w.not_met[0], w.met[0]
    body = {"action": "compare_two", "_selected_action": [str(a.pk), str(b.pk)]}
    low, high = sorted([a.pk, b.pk])
    return "form", "/admin/cases/resident/", body, f"/admin/cases/resident/merge/{low}/{high}/"


def admin_merge(w):
    from cases.services.residents import MERGE_VALUE_FIELDS

    a, b = w.not_met[0], w.met[0]
    body = {"survivor": "a"}
    body.update(
        {
            f"value_{name}": "a"
            for name in MERGE_VALUE_FIELDS
            if getattr(a, name) != getattr(b, name)
        }
    )
    return (
        "form",
        f"/admin/cases/resident/merge/{a.pk}/{b.pk}/",
        body,
        lambda: count("cases.ResidentMerge", survivor=a, duplicate=b),
    )


def admin_undo_merge(w):
    from cases import services

    merge = services.resident_merge(
        actor=w.persona("case_manager"), survivor=w.not_met[0], duplicate=w.met[0]
    )
    body = {"action": "undo", "_selected_action": [str(merge.pk)]}
    return (
        "form",
        "/admin/cases/residentmerge/",
        body,
        lambda: count("cases.ResidentMerge", pk=merge.pk, undone_at__isnull=False),
    )


def admin_contact_attempt(w):
    follow_up = w.follow_up
    body = {"follow_up": str(follow_up.pk), "channel": "phone", "outcome": "no_answer"}
    return (
        "form",
        f"/admin/cases/resident/{follow_up.resident_id}/contact-attempt/",
        body,
        lambda: count("cases.ContactAttempt", follow_up=follow_up, outcome="no_answer"),
    )


def admin_follow_up_close(w):
    follow_up = w.follow_up
    body = {
        "action": "close_with_outcome",
        "_selected_action": [str(follow_up.pk)],
        "apply": "1",
        "outcome": "declined",
    }
    return (
        "form",
        "/admin/cases/followup/",
        body,
        lambda: count("cases.FollowUp", pk=follow_up.pk, status="closed", outcome="declined"),
    )


def export_ask(w):
    today = timezone.localdate()
    body = {
        "kind": "residents_csv",
        "start_date": (today - timedelta(days=7)).isoformat(),
        "end_date": today.isoformat(),
        "redaction": "no_direct_identifiers",
    }
    return "form", "/admin/cases/exportjob/add/", body, lambda: count("cases.ExportJob")


def audit_event_change(w):
    from acs.models import AuditEvent

    resident = w.not_met[0]  # its creation is an audit event
    event = AuditEvent.objects.filter(target_id=str(resident.public_id)).first()
    return "get", f"/admin/acs/auditevent/{event.pk}/change/", None, None


def audit_user_search(w):
    return "get", "/admin/acs/auditevent/actors/?term=resp", None, None


def token_issue(w):
    body = {"kind": "cad", "name": "matrix-issued", "expires_in_days": "30"}
    return (
        "form",
        "/admin/acs/apitoken/issue/",
        body,
        lambda: count("acs.ApiToken", name="matrix-issued"),
    )


def token_action(action):
    def build(w):
        from acs.tokens import token_issue

        row, _ = token_issue(role=Role.PARTNER_USER, name="matrix-target", organization=w.agency_a)
        body = {"action": action, "_selected_action": [str(row.pk)]}
        return (
            "form",
            "/admin/acs/apitoken/",
            body,
            lambda: count("acs.ApiToken", pk=row.pk, revoked_at__isnull=False),
        )

    return build


def directory_service_change(w):
    """The change form of agency A's service as the admin sees it, with the name changed."""
    service = w.service_a[0]
    path = f"/admin/resources/service/{service.pk}/change/"
    admin = Client()
    admin.force_login(w.persona("admin_user"))
    context = admin.get(path).context
    form = context["adminform"].form
    body = {}
    for field in form:
        value = field.value()
        if value is None:
            continue
        widget = field.field.widget
        if hasattr(widget, "widgets"):  # split date and time
            parts = widget.decompress(value)
            body.update({f"{field.html_name}_{i}": v or "" for i, v in enumerate(parts)})
        elif isinstance(value, list | tuple):
            body[field.html_name] = [str(v) for v in value]
        else:
            body[field.html_name] = value
    body["name"] = "Matrix renamed service"
    for inline in context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        body.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return (
        "form",
        path,
        body,
        lambda: count("resources.Service", pk=service.pk, name="Matrix renamed service"),
    )
