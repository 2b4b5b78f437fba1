"""`{{ obj|record_label }}`: a record named as staff speak of them (cases/display.py), for the
viewer the admin set on it (`_label_viewer`, cases/admin/common.py); without one, the opaque
name."""

from django import template

from cases.display import staff_label

register = template.Library()


@register.filter
def record_label(obj) -> str:
    return staff_label(obj, getattr(obj, "_label_viewer", None))
