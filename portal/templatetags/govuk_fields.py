"""GOV.UK form fields for the busy GET filter forms, written in Python.

``{% govuk_field form.year %}`` renders a text input, a select or a group of
checkboxes with the same GOV.UK markup as crispy-forms-gds (label, hint,
error message, ``aria-describedby``, ``aria-invalid``, error classes, the
same ids, so the error summary's links land on the field), at a fraction of
its cost: crispy renders each field through half a dozen templates, which was
a third of the award register's time. Forms that people fill in and submit
stay on crispy; the filter forms above the long lists use this, and so do the
small forms on the officer's page of an opportunity (radios, a textarea, a
file upload), which is read far more often than it is posted, and the bid
form (price, declarations, file), drawn on every visit to a bid page: in a
deadline rush crispy drew it in a quarter of the server's time (issue 19).

Options: ``size`` of the label or legend ("s", "m", "l"), ``width`` of a text
input (GOV.UK's fixed widths: 2, 3, 4, 5, 10, 20, 30), ``small`` checkboxes or
radios, ``rows`` of a textarea (else the widget's).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape as html_escape
from typing import Any, cast

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from portal.templatetags.portal_tags import error_anchor, fields_in_page_order

register = template.Library()

WIDTHS = {2, 3, 4, 5, 10, 20, 30}
# A text input's attributes kept from its widget, as crispy-forms-gds draws them.
_INPUT_HINTS = ("inputmode", "spellcheck", "autocomplete")


def _errors(field: BoundField) -> tuple[list[str], SafeString]:
    """The ids of the field's error messages and their markup."""
    ids = [f"{field.auto_id}_{n}_error" for n in range(1, len(field.errors) + 1)]
    html = format_html_join(
        "",
        '<p id="{}" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> {}</p>',
        zip(ids, field.errors, strict=True),
    )
    return ids, html


def _hint(field: BoundField) -> tuple[list[str], SafeString]:
    if not field.help_text:
        return [], mark_safe("")
    hint_id = f"{field.auto_id}_hint"
    return [hint_id], format_html(
        '<div id="{}" class="govuk-hint">{}</div>', hint_id, field.help_text
    )


def _described(ids: list[str]) -> SafeString:
    if not ids:
        return mark_safe("")
    return format_html(' aria-describedby="{}"', " ".join(ids))


def _selected(field: BoundField) -> set[str]:
    value = field.value()
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    return {str(value)}


def _choices(field: BoundField) -> Iterable[tuple[Any, Any]]:
    """The choices of a field drawn as a select, checkboxes or radios: a
    ``ChoiceField``'s (every Django field with choices is one)."""
    if not isinstance(field.field, forms.ChoiceField):
        raise TypeError(f"{field.name} is drawn with choices but is not a ChoiceField.")
    # cast: django-stubs types ``choices`` as anything it may be set to (a
    # mapping, a callable...); reading it gives Django's normalised pairs.
    return cast("Iterable[tuple[Any, Any]]", field.field.choices)


def _esc(value: Any) -> str:
    """``conditional_escape``'s text, with a plain string (most values: choices'
    values and labels) escaped straight by ``html.escape``, as Django's
    ``escape`` does, without its lazy-string and ``__html__`` checks."""
    if type(value) is str:
        return html_escape(value)
    return conditional_escape(value)


def _select(field: BoundField, described: SafeString, invalid: bool) -> SafeString:
    # Without a value (the form not sent, or sent without this field) Django's
    # Select, which crispy-forms-gds draws, selects the empty choice.
    chosen = _selected(field) or {""}
    options = mark_safe(  # noqa: S308  (every value and label escaped)
        "".join(
            f'<option value="{_esc(value)}"{" selected" if str(value) in chosen else ""}>'
            f"{_esc(label)}</option>"
            for value, label in _choices(field)
        )
    )
    return format_html(
        '<select name="{}" class="govuk-select{}" id="{}"{}{}>{}</select>',
        field.html_name,
        " govuk-select--error" if invalid else "",
        field.auto_id,
        described,
        mark_safe(' aria-invalid="true"') if invalid else "",
        options,
    )


def _input(
    field: BoundField, described: SafeString, invalid: bool, width: int | None
) -> SafeString:
    classes = "govuk-input"
    if width in WIDTHS:
        classes += f" govuk-input--width-{width}"
    if invalid:
        classes += " govuk-input--error"
    value = field.value()
    max_length = getattr(field.field, "max_length", None)
    # The widget's hints to browsers (a money box's decimal keypad, no spelling check).
    attrs = field.field.widget.attrs
    hints = format_html_join(
        "", ' {}="{}"', ((name, attrs[name]) for name in _INPUT_HINTS if name in attrs)
    )
    return format_html(
        '<input type="{}" name="{}" class="{}" id="{}"{}{}{}{}{}>',
        getattr(field.field.widget, "input_type", "text"),
        field.html_name,
        classes,
        field.auto_id,
        format_html(' value="{}"', value) if value not in (None, "") else "",
        format_html(' maxlength="{}"', max_length) if max_length else "",
        hints,
        described,
        mark_safe(' aria-invalid="true"') if invalid else "",
    )


def _group(
    kind: str,
    field: BoundField,
    size: str,
    small: bool,
    hint: SafeString,
    errors: SafeString,
    ids: list[str],
) -> SafeString:
    """Checkboxes (``kind`` "checkbox") or radios ("radio") in a fieldset, ids
    ``<auto_id>_1``, ``_2``… as crispy-forms-gds numbers them."""
    block = "govuk-checkboxes" if kind == "checkbox" else "govuk-radios"
    chosen = _selected(field)
    # The field's parts escaped once, each choice's value and label per item
    # (``format_html`` per item escaped all twelve parts of every choice).
    name, auto_id = conditional_escape(field.html_name), conditional_escape(field.auto_id)
    checked = ' checked="checked"'
    items = mark_safe(  # noqa: S308  (every part escaped)
        "".join(
            f'<div class="{block}__item">'
            f'<input type="{kind}" name="{name}" class="{block}__input" id="{auto_id}_{n}"'
            f' value="{conditional_escape(value)}"{checked if str(value) in chosen else ""}>'
            f'<label class="govuk-label {block}__label" for="{auto_id}_{n}">'
            f"{conditional_escape(label)}</label></div>"
            for n, (value, label) in enumerate(_choices(field), start=1)
        )
    )
    return format_html(
        '<div id="div_{}" class="govuk-form-group{}">'
        '<fieldset class="govuk-fieldset"{}>'
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--{}">{}</legend>{}{}'
        '<div class="{}{}" data-module="{}">{}</div>'
        "</fieldset></div>",
        field.auto_id,
        " govuk-form-group--error" if field.errors else "",
        _described(ids),
        size,
        field.label,
        hint,
        errors,
        block,
        f" {block}--small" if small else "",
        block,
        items,
    )


def _textarea(
    field: BoundField, described: SafeString, invalid: bool, rows: int | None
) -> SafeString:
    """The widget's own attributes (``cols``, ``rows``, ``maxlength``, ``minlength``),
    ``rows`` replaced when given; the first newline is dropped by browsers."""
    attrs = dict(field.field.widget.attrs)
    if rows:
        attrs["rows"] = rows
    value = field.value()
    return format_html(
        '<textarea name="{}"{} class="govuk-textarea{}" id="{}"{}{}>\n{}</textarea>',
        field.html_name,
        format_html_join(
            "",
            ' {}="{}"',
            (
                (name, attrs[name])
                for name in ("cols", "rows", "maxlength", "minlength")
                if name in attrs
            ),
        ),
        " govuk-textarea--error" if invalid else "",
        field.auto_id,
        described,
        mark_safe(' aria-invalid="true"') if invalid else "",
        "" if value is None else value,
    )


def _file(field: BoundField, described: SafeString, invalid: bool) -> SafeString:
    """A file upload (never a value: browsers do not let pages fill one in)."""
    accept = field.field.widget.attrs.get("accept")
    return format_html(
        '<input type="file" name="{}" class="govuk-file-upload{}" id="{}"{}{}{}>',
        field.html_name,
        " govuk-file-upload--error" if invalid else "",
        field.auto_id,
        format_html(' accept="{}"', accept) if accept else "",
        described,
        mark_safe(' aria-invalid="true"') if invalid else "",
    )


@register.simple_tag
def govuk_field(
    field: BoundField,
    size: str = "s",
    width: int | None = None,
    small: bool = False,
    rows: int | None = None,
) -> SafeString:
    """A GOV.UK form group for ``field``: label, hint, errors and the control."""
    hint_ids, hint = _hint(field)
    error_ids, errors = _errors(field)
    invalid = bool(field.errors)
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return _group("checkbox", field, size, small, hint, errors, hint_ids + error_ids)
    if isinstance(widget, forms.RadioSelect):
        return _group("radio", field, size, small, hint, errors, hint_ids + error_ids)
    described = _described(hint_ids + error_ids)
    if isinstance(widget, forms.Select):
        control = _select(field, described, invalid)
    elif isinstance(widget, forms.Textarea):
        control = _textarea(field, described, invalid, rows)
    elif isinstance(widget, forms.FileInput):
        control = _file(field, described, invalid)
    else:
        control = _input(field, described, invalid, width)
    return format_html(
        '<div id="div_{}" class="govuk-form-group{}">'
        '<label for="{}" class="govuk-label govuk-label--{}">{}</label>{}{}{}</div>',
        field.auto_id,
        " govuk-form-group--error" if invalid else "",
        field.auto_id,
        size,
        field.label,
        hint,
        errors,
        control,
    )


@register.simple_tag
def govuk_error_summary(form: forms.Form) -> SafeString:
    """GOV.UK's error summary for a form drawn with ``govuk_field``: each error
    links to its field (the first checkbox of a group), the form's own errors
    to its first field. Nothing when the form has no errors."""
    if not form.is_bound or not form.errors:
        return mark_safe("")
    fields = fields_in_page_order(form)
    # The form's own errors land on its first field (a date's day box).
    first = error_anchor(fields[0].auto_id, fields[0]) if fields else ""
    links = [(first, error) for error in form.non_field_errors()]
    for field in fields:
        links += [(error_anchor(field.auto_id, field), error) for error in field.errors]
    return format_html(
        '<div class="govuk-error-summary" data-module="govuk-error-summary"><div role="alert">'
        '<h2 class="govuk-error-summary__title">There is a problem</h2>'
        '<div class="govuk-error-summary__body"><ul class="govuk-list govuk-error-summary__list">'
        "{}</ul></div></div></div>",
        format_html_join("", '<li><a href="#{}">{}</a></li>', links),
    )
