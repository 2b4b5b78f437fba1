"""Forms of the partner portal (/partners/): they check the shape of the input; the rules
themselves (which moves are allowed, capacity bounds, safe webhook addresses) stay in the
services, whose refusals the views put back on the form."""

from __future__ import annotations

from django import forms

from resources.models import ReferralOutcome

NOTE_MAX = 4000  # as the service and the partner API
CAPACITY_MAX = 100_000  # as the partner API


def _note(*, required: bool, label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AcceptForm(forms.Form):
    note = _note(required=False, label="Note to ACS (optional)")


class DeclineForm(forms.Form):
    reason = _note(required=True, label="Why are you declining?")


class StartForm(forms.Form):
    note = _note(required=False, label="Note to ACS (optional)")


class CompleteForm(forms.Form):
    outcome = forms.ChoiceField(label="Outcome", choices=ReferralOutcome.choices)
    note = _note(required=False, label="Note to ACS (optional)")


class NoteForm(forms.Form):
    note = _note(required=True, label="Message to ACS")


class CapacityForm(forms.Form):
    available = forms.IntegerField(label="Available", min_value=0, max_value=CAPACITY_MAX)
    total = forms.IntegerField(label="Total", min_value=0, max_value=CAPACITY_MAX)
    unit = forms.CharField(label="Unit", max_length=32, required=False, initial="beds")
    note = forms.CharField(label="Note (optional)", max_length=500, required=False)

    def clean(self):
        data = super().clean()
        available, total = data.get("available"), data.get("total")
        if available is not None and total is not None and available > total:
            self.add_error("available", "Must not exceed total.")
        return data


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Endpoint URL (https)",
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/acs-webhooks"}),
    )
