"""Template helpers of the portal's own."""

from __future__ import annotations

import re
from typing import Any

from django import forms, template
from django.conf import settings
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from portal.sentences import as_sentence

register = template.Library()

# Where a link in escaped text ends: before a space, or an escaped quote or angle bracket.
_LINK_END = re.compile(r"\s|&(?:quot|#x27|#39|lt|gt);")
# Punctuation that ends a sentence rather than the address ("see …/bid/."),
# but not the semicolon that ends an escaped character ("&amp;").
_TRAILING = ".,;:!?)]"
_ENTITY_AT_END = re.compile(r"&#?\w+;$")


@register.filter
def error_anchor(field_id: str, bound_field: BoundField) -> str:
    """Where an error summary link should land: the first radio or checkbox of
    a group (GOV.UK numbers them ``id_x_1``, ``id_x_2``…), the day box of a
    date (its inputs are ``id_x_0``, ``id_x_1``…; ``id_x`` is their group,
    which takes no focus), else the field."""
    widget = bound_field.field.widget
    kind = getattr(widget, "input_type", "")
    grouped = kind == "radio" or (
        kind == "checkbox" and getattr(widget, "allow_multiple_selected", False)
    )
    if grouped and field_id == bound_field.auto_id:
        return f"{field_id}_1"
    if isinstance(widget, forms.MultiWidget) and field_id == bound_field.auto_id:
        return f"{field_id}_0"
    return field_id


@register.filter
def fields_in_page_order(form: forms.BaseForm) -> list[BoundField]:
    """The form's visible fields in the order the page draws them: its crispy
    layout's order when it has one (``gds_helper``), then any field the layout
    leaves out, in the form's own order. An error summary lists errors in this
    order, as GOV.UK asks, and links the form's own errors to the first."""
    visible = {field.name: field for field in form.visible_fields()}
    layout: Any = getattr(getattr(form, "helper", None), "layout", None)
    names = [pointer.name for pointer in layout.get_field_names()] if layout else []
    ordered = [visible[name] for name in dict.fromkeys(names) if name in visible]
    return ordered + [field for name, field in visible.items() if name not in names]


@register.filter
def sentence(text: str) -> str:
    """A reason as a sentence: a full stop added only where it has none."""
    return as_sentence(text)


@register.filter
def audit_label(action: str) -> str:
    """An audit action code in plain words (``bid.scored`` -> "Bid scored")."""
    from portal.audit_labels import action_label

    return action_label(action)


@register.filter
def pounds(value: Any, places: int = 2) -> str:
    """A sum of money as people write it: "£1,234.50", and a credit as
    "−£500.00" (a minus sign before the pound sign, never "£-500.00")."""
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    sign = "−" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.{int(places)}f}"


@register.filter
def pounds_short(value: Any) -> str:
    """A headline sum that fits a third of a page at any width: "£140.0 million"
    from a million, otherwise as ``pounds`` writes whole pounds."""
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if abs(amount) < 1_000_000:
        return pounds(amount, 0)
    sign = "−" if amount < 0 else ""
    return f"{sign}£{abs(amount) / 1_000_000:,.1f} million"


@register.filter(needs_autoescape=True)
def portal_links(text: str, autoescape: bool = True) -> SafeString:
    """A message's text, escaped, with each http(s) address of the portal's
    own site (``SITE_URL``) made a link. Any other address stays text: a
    message may quote what someone typed, and the inbox links to nowhere else."""
    escaped = str(conditional_escape(text) if autoescape else text)
    site = str(conditional_escape(settings.SITE_URL.rstrip("/")))
    if not site.startswith(("http://", "https://")):
        return mark_safe(escaped)  # noqa: S308 (escaped above)
    # The site's address, ending there or going on with a path, query or fragment
    # (never another host that starts the same: "https://site.example.evil").
    start = re.compile(
        re.escape(site) + r"(?=$|[/?#]|\s|&(?:quot|#x27|#39|lt|gt);|[.,;:!?)\]]+(?:\s|$))"
    )
    parts = []
    at = 0
    for found in start.finditer(escaped):
        if found.start() < at:
            continue
        end = _LINK_END.search(escaped, found.end())
        url = escaped[found.start() : end.start() if end else len(escaped)]
        while url[-1] in _TRAILING and not _ENTITY_AT_END.search(url):
            url = url[:-1]
        parts += [escaped[at : found.start()], f'<a class="govuk-link" href="{url}">{url}</a>']
        at = found.start() + len(url)
    parts.append(escaped[at:])
    return mark_safe("".join(parts))  # noqa: S308 (escaped above; the links are its own text)
