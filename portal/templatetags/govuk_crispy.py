"""crispy-forms-gds's ``{% crispy_gds_field %}``, with the error state on every
text-like input.

The package marks a field in error (``govuk-input--error``) only when its
widget is a ``TextInput``, ``Select`` or ``Textarea``: an email, password,
web address or number box in error kept the plain border. The project's
``templates/gds/field.html`` loads this library after the package's, so this
tag draws every field the package draws, and adds the class where it is missing.
"""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.templatetags.crispy_forms_gds import CrispyGDSFieldNode
from django import forms, template
from django.template.base import Parser, Token
from django.utils.safestring import SafeString

register = template.Library()

# Widgets crispy-forms-gds styles as govuk-input (see CRISPY_CLASS_CONVERTERS)
# but does not mark as in error.
_TEXT_LIKE = {"email", "password", "url", "number", "date", "time", "datetime-local", "search"}


class GovukFieldNode(CrispyGDSFieldNode):
    def render(self, context: template.Context) -> Any:
        html = super().render(context)
        field = template.Variable(self.field).resolve(context)
        widget = getattr(field, "field", None) and field.field.widget
        if not field.errors or not isinstance(widget, forms.widgets.Input):
            return html
        classes = widget.attrs.get("class", "").split()
        if (
            widget.input_type in _TEXT_LIKE
            and "govuk-input" in classes
            and "govuk-input--error" not in classes
        ):
            widget.attrs["class"] = " ".join([*classes, "govuk-input--error"])
            return SafeString(str(field))
        return html


@register.tag(name="crispy_gds_field")
def crispy_gds_field(parser: Parser, token: Token) -> GovukFieldNode:
    """As the package's tag: ``{% crispy_gds_field field attr value … %}``."""
    bits = token.split_contents()
    field = bits[1]
    rest = bits[2:]
    attrs = dict(zip(rest[::2], rest[1::2], strict=False))
    return GovukFieldNode(field, attrs)
