"""Template helpers of the portal's own."""

from __future__ import annotations

from django import template
from django.forms import BoundField

register = template.Library()


@register.filter
def error_anchor(field_id: str, bound_field: BoundField) -> str:
    """Where an error summary link should land: the first radio or checkbox of
    a group (GOV.UK numbers them ``id_x_1``, ``id_x_2``…), else the field."""
    widget = bound_field.field.widget
    kind = getattr(widget, "input_type", "")
    grouped = kind == "radio" or (
        kind == "checkbox" and getattr(widget, "allow_multiple_selected", False)
    )
    if grouped and field_id == bound_field.auto_id:
        return f"{field_id}_1"
    return field_id
