"""Records named for staff in templates (acs/record_labels.py).

`{{ obj|record_label }}`: a record named as staff speak of them, for the viewer the admin set
on it (`_label_viewer`, cases/admin/common.py); without one, the opaque name.

`{% inline_row_label inline_admin_form as row_label %}`: the heading of one row of an inline
(templates/admin/edit_inline/tabular.html and stacked.html, which every inline of the admin
uses): the inline's own `row_label(obj)` when it has one, else the record's label when
acs/record_labels.py names its kind, else nothing (the row's columns say what it is). Never the
row's `__str__`: Django's default ("EncounterResident object (14)") says nothing, and ours are
opaque on purpose ("Resident a21ff057"), for the stored copies.

`{% local_time value %}`: a moment as the desk reads it everywhere ("5 Dec 10:02"), with the
ISO form in `<time datetime>`, never broken across lines; `{{ text|unbroken }}`: the dates and
moments in a label kept whole.
"""

from django import template

from acs.local_times import local_time
from acs.record_labels import LABELS, staff_label, unbroken

register = template.Library()


@register.filter
def record_label(obj) -> str:
    return staff_label(obj, getattr(obj, "_label_viewer", None))


@register.simple_tag(takes_context=True)
def inline_row_label(context, inline_admin_form) -> str:
    obj = inline_admin_form.original
    if obj is None:
        return ""
    row_label = getattr(inline_admin_form.model_admin, "row_label", None)
    if row_label is not None:
        return row_label(obj)
    if obj._meta.label_lower in LABELS:
        request = context.get("request")
        return staff_label(obj, getattr(request, "user", None))
    return ""


@register.simple_tag
def inline_change_link(inline_admin_form) -> bool:
    """Whether the row links to its record's own page (Django's condition)."""
    inline = inline_admin_form.model_admin
    return bool(
        inline_admin_form.original is not None
        and inline.show_change_link
        and inline.has_registered_model
    )


register.simple_tag(local_time, name="local_time")
register.filter("unbroken", unbroken)
