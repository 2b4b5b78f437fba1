"""The texts of notifications, in English and Spanish (Django's i18n: locale/es/).

Resident messages name no one and say nothing clinical: no names, diagnoses, narratives,
service types or substance-use information, because a text can be read by whoever holds the
phone. They say who is writing and how to reach a person, and how to stop the texts. Staff and
partner messages carry counts and links; the records themselves are behind sign-in.

Each template is a function of the notification's `context` (ids and counts only), called
under the notification's language; it returns (subject, body). The subject is for e-mail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

Rendered = tuple[str, str]

LANGUAGES = ("en", "es")


def _link(path: str) -> str:
    return f"{settings.ACS_BASE_URL}{path}"


def _stop() -> str:
    return _("Reply STOP to stop these texts.")


def checkin(context: dict) -> Rendered:
    body = _(
        "Albuquerque Community Safety checking in. Did you get connected with the help we "
        "talked about? Reply 1 for yes, 2 for no, 3 if you want us to call you."
    )
    return _("Checking in"), f"{body} {_stop()}"


def referral_accepted(context: dict) -> Rendered:
    body = _(
        "Albuquerque Community Safety: the place we referred you to is ready to see you. "
        "Questions? Call %(phone)s."
    ) % {"phone": settings.ACS_PHONE_NUMBER}
    return _("You have a place to go"), f"{body} {_stop()}"


def staff_digest(context: dict) -> Rendered:
    subject = _("Your follow-ups today: %(due)s due, %(overdue)s overdue") % context
    if context.get("addenda") and not (context["due"] or context["overdue"]):
        subject = _("Addenda awaiting your approval: %(addenda)s") % context
    body = _(
        "Good morning. You have %(due)s follow-up(s) due today and %(overdue)s overdue.\n\n"
        "Your work queue: %(link)s"
    ) % {**context, "link": _link("/admin/cases/followup/?due=overdue")}
    if context.get("addenda"):
        body += "\n\n" + _(
            "%(addenda)s addendum(s) to your team's encounters await your approval: %(link)s"
        ) % {**context, "link": _link("/admin/cases/addendum/?awaiting=me")}
    return subject, body


def follow_up_escalated(context: dict) -> Rendered:
    subject = _("Follow-up escalated for review")
    body = _(
        "A follow-up ran out of attempts and was escalated (%(kind)s).\n\nOpen it: %(link)s"
    ) % {
        "kind": context.get("kind", ""),
        "link": _link(f"/admin/cases/followup/{context['follow_up_pk']}/change/"),
    }
    return subject, body


def referral_declined(context: dict) -> Rendered:
    subject = _("A referral was declined: please re-route it")
    body = _(
        "The partner declined a referral you made. The reason is on the referral:\n%(link)s"
    ) % {"link": _link(f"/admin/resources/referral/{context['referral_pk']}/change/")}
    return subject, body


def referral_expired(context: dict) -> Rendered:
    subject = _("A referral expired without an answer")
    body = _(
        "The partner did not answer a referral you made within its response window. "
        "Please re-route it:\n%(link)s"
    ) % {"link": _link(f"/admin/resources/referral/{context['referral_pk']}/change/")}
    return subject, body


def checkin_reply(context: dict) -> Rendered:
    subject = _("A resident answered a check-in text: %(answer)s") % context
    body = _(
        "A resident replied to a check-in text (%(answer)s). A person should follow up.\n\n"
        "The follow-up: %(link)s"
    ) % {**context, "link": _link(context.get("path", "/admin/cases/followup/"))}
    return subject, body


def partner_new_referral(context: dict) -> Rendered:
    subject = _("A new referral is waiting for your answer")
    body = _(
        "Albuquerque Community Safety sent your organization a referral. Please accept or "
        "decline it in the partner portal before %(respond_by)s:\n%(link)s"
    ) % {
        "respond_by": context.get("respond_by", ""),
        "link": _link(f"/partners/referrals/{context['referral']}/"),
    }
    return subject, body


def board_alert(context: dict) -> Rendered:
    """A threshold crossing on the operations board, for the on-duty supervisors: the call's
    incident number or the unit's call sign, and the limit; no address, no names."""
    if context.get("kind") == "unit_on_scene":
        subject = _("Unit %(unit)s on scene %(minutes)s min without a status") % context
        body = _(
            "Unit %(unit)s has been on scene for %(minutes)s minutes without a status: its "
            "safety check-in is missed. Check on the unit.\n\nThe board: %(link)s"
        ) % {**context, "link": _link("/board/")}
    else:
        subject = _("Call %(incident)s pending over %(minutes)s min (priority %(priority)s)") % (
            context
        )
        body = _(
            "Call %(incident)s (priority %(priority)s) has waited for a unit for over "
            "%(minutes)s minutes.\n\nThe board: %(link)s"
        ) % {**context, "link": _link("/board/")}
    return subject, body


# How much of each step of a safety plan a text carries (a long plan goes on the printed page).
SAFETY_PLAN_STEP_CHARS = 300


def safety_plan(context: dict) -> Rendered:
    """The resident's own safety plan, which they asked to receive by text on scene
    (docs/screening.md, "The resident's copy"). It is the one resident text with content of
    their own: the steps as they worded them with the responder, headed neutrally (no word
    that says what the plan is about to someone glancing at the phone), and the 988 line.
    Read from the response when sent (the context holds its id only); a plan already removed
    by retention sends the 988 line alone."""
    from cases.models import FormResponse
    from cases.screening.questionnaire import item_text, walk

    response = (
        FormResponse.objects.select_related("version")
        .filter(pk=context.get("form_response_pk"))
        .first()
    )
    lines = [_("Your plan, from Albuquerque Community Safety:")]
    if response is not None:
        language = translation.get_language() or "en"
        for item, _parent in walk(response.version.items):
            value = response.answers.get(item["linkId"])
            if item.get("type") in ("string", "text") and value:
                step = item_text(item, language).split(".")[0]
                lines.append(f"{step}: {str(value)[:SAFETY_PLAN_STEP_CHARS]}")
    lines.append(_("Any time, day or night: call or text 988. In an emergency, call 911."))
    return _("Your plan"), "\n".join(lines) + f"\n{_stop()}"


TEMPLATES: dict[str, Callable[[dict], Rendered]] = {
    "checkin": checkin,
    "referral_accepted": referral_accepted,
    "staff_digest": staff_digest,
    "follow_up_escalated": follow_up_escalated,
    "referral_declined": referral_declined,
    "referral_expired": referral_expired,
    "checkin_reply": checkin_reply,
    "partner_new_referral": partner_new_referral,
    "board_alert": board_alert,
    "safety_plan": safety_plan,
}
RESIDENT_TEMPLATES = frozenset({"checkin", "referral_accepted", "safety_plan"})
# Texts the resident asked for on scene: not held back by the quiet hours (which keep
# unasked-for texts out of the night).
ON_REQUEST = frozenset({"safety_plan"})
# How long after its due time each message is still worth sending.
LIFETIME = {
    "checkin": timedelta(days=2),
    "referral_accepted": timedelta(hours=12),
    "staff_digest": timedelta(hours=10),
    "board_alert": timedelta(hours=2),
    "safety_plan": timedelta(hours=12),
}
DEFAULT_LIFETIME = timedelta(days=3)


def render(template: str, language: str, context: dict) -> Rendered:
    language = language if language in LANGUAGES else "en"
    with translation.override(language):
        return TEMPLATES[template](context)
