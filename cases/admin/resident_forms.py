"""The forms of the residents' admin (cases/admin/residents.py): the name search, the day's actions
(follow-up, contact attempt, consent), the side-by-side merge and the record itself."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from acs.phones import phone_canonical
from cases import services
from cases.admin.common import desk_users
from cases.display import resident_label
from cases.models import Consent, ContactAttempt, FollowUp, Resident
from cases.services.residents import MERGE_VALUE_FIELDS, RESIDENT_FIELDS
from resources.models import Organization
from responders.models import User


class ResidentSearchForm(forms.Form):
    name = forms.CharField(max_length=150, label="Name or alias", strip=True)


class FollowUpOpenForm(forms.Form):
    kind = forms.ChoiceField(choices=FollowUp.Kind.choices, initial=FollowUp.Kind.PHONE)
    due_at = forms.SplitDateTimeField(
        widget=admin.widgets.AdminSplitDateTime, help_text="When the first attempt is due."
    )
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = desk_users()


class ContactAttemptForm(forms.Form):
    follow_up = forms.ModelChoiceField(queryset=FollowUp.objects.none())
    at = forms.SplitDateTimeField(widget=admin.widgets.AdminSplitDateTime, required=False)
    channel = forms.ChoiceField(choices=ContactAttempt.Channel.choices)
    outcome = forms.ChoiceField(choices=ContactAttempt.Outcome.choices)
    next_step = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, resident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up"].queryset = resident.follow_ups.exclude(
            status=FollowUp.Status.CLOSED
        ).order_by("due_at", "id")


class ConsentRecordForm(forms.Form):
    scope = forms.ChoiceField(choices=Consent.Scope.choices)
    method = forms.ChoiceField(choices=Consent.Method.choices)
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        required=False,
        help_text="Only for a named-partner consent.",
    )
    expires_at = forms.SplitDateTimeField(widget=admin.widgets.AdminSplitDateTime, required=False)


MERGE_COMPARED = ("aliases", *MERGE_VALUE_FIELDS)


def merge_display(resident: Resident, name: str) -> str:
    value = getattr(resident, name)
    if isinstance(value, list):
        return ", ".join(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    display = getattr(resident, f"get_{name}_display", None)
    return str(display() if display else value or "")


class MergeForm(forms.Form):
    """Which record survives, and for each field where the two differ, whose value stays."""

    survivor = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args, a: Resident, b: Resident, **kwargs):
        super().__init__(*args, **kwargs)
        self.a, self.b = a, b
        self.fields["survivor"].choices = [("a", resident_label(a)), ("b", resident_label(b))]
        self.differing = [
            name for name in MERGE_VALUE_FIELDS if getattr(a, name) != getattr(b, name)
        ]
        for name in self.differing:
            self.fields[f"value_{name}"] = forms.ChoiceField(
                choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect, initial="a"
            )

    def merge_arguments(self) -> dict:
        data = self.cleaned_data
        survivor, duplicate = (self.a, self.b) if data["survivor"] == "a" else (self.b, self.a)
        chosen = {"a": self.a, "b": self.b}
        values = {name: getattr(chosen[data[f"value_{name}"]], name) for name in self.differing}
        return {"survivor": survivor, "duplicate": duplicate, "values": values}


class ResidentForm(forms.ModelForm):
    class Meta:
        model = Resident
        fields = RESIDENT_FIELDS
        help_texts = {
            "phone": "Any usual form: (505) 555-0100, +44 20 7946 0958, 011 44 20 7946 0958, "
            "505-555-0100 ext. 12. Stored as +15055550100 (;ext=12).",
        }

    # Only on a new record, and only once likely duplicates were shown (ResidentAdmin.get_form).
    confirm_new = forms.BooleanField(
        required=False,
        label="Not one of the people listed: create a new record",
    )
    request = None  # set on the add form: the duplicate check audits what it shows

    def clean(self):
        """Adding a resident warns about likely duplicates, as the field app does: the same
        check (services.resident_possible_duplicates), shown with a link to each record;
        ticking "Not one of the people listed" creates the record anyway."""
        data = super().clean()
        if self.instance.pk is not None or data.get("confirm_new") or self.request is None:
            return data
        candidates = services.resident_possible_duplicates(
            actor=self.request.user, data=data, request=self.request
        )
        if candidates:
            links = format_html_join(
                "; ",
                '<a href="{}" target="_blank">{}</a>',
                (
                    (reverse("admin:cases_resident_change", args=[r.pk]), resident_label(r))
                    for r in candidates
                ),
            )
            raise forms.ValidationError(
                format_html(
                    "This person may already be recorded: {}. Open the record instead, or tick "
                    "“Not one of the people listed” below to create a new one.",
                    links,
                )
            )
        return data

    def clean_phone(self):
        """A number typed here must be one that can exist (acs/phones.py); an old record's
        number nobody touched is left for its owner to fix."""
        value = self.cleaned_data["phone"]
        if "phone" not in self.changed_data:
            return value
        return phone_canonical(value)
