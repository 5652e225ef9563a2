"""``{% govuk_field %}`` and ``{% govuk_error_summary %}``: selects, text inputs and
checkboxes (the filter forms above the long lists), radios, textareas and file uploads
(the small forms on the officer's page of an opportunity) with the GOV.UK markup
crispy-forms-gds gave them: the same ids (so the error summary's links land on the field), labels or
legends, hints, error messages, ``aria-describedby`` and ``aria-invalid``."""

from __future__ import annotations

import re

import pytest
from crispy_forms_gds.layout import Field
from django import forms
from django.template import Context, Template
from django.urls import reverse

from portal.forms import gds_helper


class Sample(forms.Form):
    answer = forms.CharField(
        label="Your answer", max_length=50, min_length=2, widget=forms.Textarea
    )
    visibility = forms.ChoiceField(
        label="Who sees the answer?",
        choices=[("all", "Everyone <invited>"), ("private", "Only the asker")],
        widget=forms.RadioSelect,
        help_text="Choose one.",
    )
    file = forms.FileField(label="Add a document", help_text="PDF or Word.")


def render(source: str, form: forms.Form) -> str:
    return Template("{% load govuk_fields %}" + source).render(Context({"form": form}))


def test_a_textarea_has_its_label_its_widgets_limits_and_the_rows_asked_for():
    html = render("{% govuk_field form.answer rows=4 %}", Sample(prefix="q7"))
    assert html == (
        '<div id="div_id_q7-answer" class="govuk-form-group">'
        '<label for="id_q7-answer" class="govuk-label govuk-label--s">Your answer</label>'
        '<textarea name="q7-answer" cols="40" rows="4" maxlength="50" minlength="2" '
        'class="govuk-textarea" id="id_q7-answer">\n</textarea></div>'
    )


def test_a_textarea_with_an_error_keeps_what_was_typed_escaped_and_describes_the_error():
    form = Sample({"answer": "<"})
    assert not form.is_valid()
    html = render("{% govuk_field form.answer %}", form)
    assert 'class="govuk-form-group govuk-form-group--error"' in html
    assert (
        '<p id="id_answer_1_error" class="govuk-error-message">'
        '<span class="govuk-visually-hidden">Error:</span> '
        "Ensure this value has at least 2 characters (it has 1).</p>"
    ) in html
    assert 'rows="10"' in html  # the widget's own, when no rows are asked for
    assert (
        'class="govuk-textarea govuk-textarea--error" id="id_answer" '
        'aria-describedby="id_answer_1_error" aria-invalid="true">\n&lt;</textarea>'
    ) in html


def test_radios_are_a_fieldset_with_a_legend_numbered_ids_and_the_choice_kept():
    form = Sample({"visibility": "private"})
    form.is_valid()
    html = render("{% govuk_field form.visibility small=True %}", form)
    assert html.startswith(
        '<div id="div_id_visibility" class="govuk-form-group">'
        '<fieldset class="govuk-fieldset" aria-describedby="id_visibility_hint">'
        '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">'
        "Who sees the answer?</legend>"
        '<div id="id_visibility_hint" class="govuk-hint">Choose one.</div>'
        '<div class="govuk-radios govuk-radios--small" data-module="govuk-radios">'
    )
    assert (
        '<input type="radio" name="visibility" class="govuk-radios__input" '
        'id="id_visibility_1" value="all">'
        '<label class="govuk-label govuk-radios__label" for="id_visibility_1">'
        "Everyone &lt;invited&gt;</label>"
    ) in html
    assert 'id="id_visibility_2" value="private" checked="checked">' in html


def test_radios_with_an_error_say_so_in_the_fieldset():
    form = Sample({})
    form.is_valid()
    html = render("{% govuk_field form.visibility %}", form)
    assert 'class="govuk-form-group govuk-form-group--error"' in html
    assert 'aria-describedby="id_visibility_hint id_visibility_1_error"' in html
    assert '<p id="id_visibility_1_error" class="govuk-error-message">' in html
    assert "checked" not in html
    assert "govuk-radios--small" not in html


def test_a_file_upload_has_its_hint_and_never_a_value():
    html = render("{% govuk_field form.file %}", Sample())
    assert html == (
        '<div id="div_id_file" class="govuk-form-group">'
        '<label for="id_file" class="govuk-label govuk-label--s">Add a document</label>'
        '<div id="id_file_hint" class="govuk-hint">PDF or Word.</div>'
        '<input type="file" name="file" class="govuk-file-upload" id="id_file" '
        'aria-describedby="id_file_hint"></div>'
    )


def test_a_file_upload_with_an_error_is_marked_invalid():
    form = Sample({}, {})
    form.is_valid()
    html = render("{% govuk_field form.file %}", form)
    assert (
        '<input type="file" name="file" class="govuk-file-upload govuk-file-upload--error" '
        'id="id_file" aria-describedby="id_file_hint id_file_1_error" aria-invalid="true">'
    ) in html


class Filters(forms.Form):
    """A GET filter form like the award register's and the supplier directory's."""

    year = forms.ChoiceField(
        label="Financial year",
        required=False,
        choices=[("", "All years"), ("2025", "2025–26"), ("2024", "2024–25 <old>")],
        error_messages={"invalid_choice": "Select a financial year"},
    )
    q = forms.CharField(label="Name or words", help_text="For example, Aire", max_length=5)
    only = forms.MultipleChoiceField(
        label="Show only",
        required=False,
        choices=[("local", "Local"), ("sme", "SMEs")],
        widget=forms.CheckboxSelectMultiple,
    )


def test_a_select_keeps_the_choice_made_and_escapes_every_label():
    html = render("{% govuk_field form.year %}", Filters({"year": "2024", "q": "a"}))
    assert '<label for="id_year" class="govuk-label govuk-label--s">Financial year</label>' in html
    assert '<option value="2024" selected>2024–25 &lt;old&gt;</option>' in html
    assert '<option value="2025">' in html and "aria-invalid" not in html


def test_a_text_input_has_its_hint_width_value_and_limit():
    html = render("{% govuk_field form.q width=20 %}", Filters({"q": 'a"b'}))
    assert '<div id="id_q_hint" class="govuk-hint">For example, Aire</div>' in html
    assert 'class="govuk-input govuk-input--width-20"' in html
    assert 'value="a&quot;b"' in html and 'maxlength="5"' in html
    assert 'aria-describedby="id_q_hint"' in html


def test_checkboxes_are_a_fieldset_with_numbered_ids_and_the_ticks_kept():
    html = render("{% govuk_field form.only small=True %}", Filters({"only": ["sme"]}))
    assert '<legend class="govuk-fieldset__legend govuk-fieldset__legend--s">Show only' in html
    assert 'class="govuk-checkboxes govuk-checkboxes--small"' in html
    assert 'id="id_only_1" value="local">' in html
    assert 'id="id_only_2" value="sme" checked="checked">' in html


def test_errors_are_in_the_summary_linked_to_their_fields_and_on_the_fields():
    form = Filters({"year": "1066", "q": "too long", "only": ["nope"]})
    html = render("{% govuk_error_summary form %}{% govuk_field form.year %}", form)
    summary = html[: html.index('<div id="div_id_year"')]
    assert '<h2 class="govuk-error-summary__title">There is a problem</h2>' in summary
    assert '<a href="#id_year">Select a financial year</a>' in summary
    assert '<a href="#id_q">' in summary
    assert '<a href="#id_only_1">' in summary  # the first checkbox of the group
    field = html[len(summary) :]
    assert "govuk-form-group--error" in field and "govuk-select--error" in field
    assert 'id="id_year_1_error"' in field and 'aria-describedby="id_year_1_error"' in field
    assert 'aria-invalid="true"' in field


def test_no_summary_without_errors_or_before_the_form_is_sent():
    assert render("{% govuk_error_summary form %}", Filters()) == ""
    assert render("{% govuk_error_summary form %}", Filters({"q": "ok"})) == ""


# --- Every form page: every control styled, errors summarised in page order ------------

GOVUK_CONTROLS = (
    "govuk-input",
    "govuk-select",
    "govuk-textarea",
    "govuk-checkboxes__input",
    "govuk-radios__input",
    "govuk-file-upload",
)
_CONTROL = re.compile(r"<(input|select|textarea)\b[^>]*>")


def unstyled_controls(html: str) -> list[str]:
    """The form controls of a page without a GOV.UK class (hidden inputs and
    GOV.UK buttons apart)."""
    unstyled = []
    for match in _CONTROL.finditer(html):
        tag = match.group(0)
        classes = (re.search(r'class="([^"]*)"', tag) or [None, ""])[1].split()
        if 'type="hidden"' in tag:
            continue
        if 'type="submit"' in tag and "govuk-button" in classes:
            continue
        if not any(name in classes for name in GOVUK_CONTROLS):
            unstyled.append(tag)
    return unstyled


def summary_out_of_page_order(html: str) -> list[str]:
    """The error summary's links, if they are not in the order their fields
    come on the page (or land on no field); [] when in order."""
    start = html.find("govuk-error-summary__list")
    if start < 0:
        return []
    end = html.index("</ul>", start)
    hrefs = re.findall(r'href="#([^"]+)"', html[start:end])
    places = [html.find(f'id="{anchor}"', end) for anchor in hrefs]
    if -1 in places or places != sorted(places):
        return hrefs
    return []


class Kinds(forms.Form):
    """Widgets crispy-forms-gds did not style (url) or mark in error (the rest)."""

    email = forms.EmailField(label="Email address")
    website = forms.URLField(label="Website", assume_scheme="https")
    password = forms.CharField(label="Password", widget=forms.PasswordInput)
    count = forms.IntegerField(label="How many")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Drawn in another order than declared: the summary follows the page.
        self.helper = gds_helper(
            Field.text("website"), Field.text("count"), Field.text("email"), "password"
        )


def test_every_kind_of_input_has_the_govuk_class_and_its_error_state():
    crispy = (
        "{% load crispy_forms_tags crispy_forms_gds %}{% error_summary form %}{% crispy form %}"
    )
    blank = Template(crispy).render(Context({"form": Kinds()}))
    assert unstyled_controls(blank) == []
    assert 'type="url" name="website" class="govuk-input' in blank
    form = Kinds({"email": "not an address", "website": "nope", "count": "x"})
    assert not form.is_valid()
    html = Template(crispy).render(Context({"form": form}))
    assert unstyled_controls(html) == []
    for name in ("email", "website", "password", "count"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert "govuk-input--error" in tag, tag
        assert 'aria-invalid="true"' in tag or "aria-describedby" in tag
    summary = html[: html.index("<form")]
    assert re.findall(r'href="#([^"]+)"', summary) == [
        "id_website",
        "id_count",
        "id_email",
        "id_password",
    ]
    assert summary_out_of_page_order(html) == []


@pytest.fixture
def pages(officer, second_officer, local_supplier_user, auditor, admin_user):
    """Each form page, who opens it, and whether an empty POST shows its errors."""
    from tests.tenders_helpers import make_opportunity
    from tests.test_opportunity_pages import open_opportunity

    draft = make_opportunity(officer, "5000.00")
    published = open_opportunity(officer)
    on = {"draft": [draft.pk], "open": [published.pk]}
    return [
        (None, "register", [], True),
        (None, "login", [], True),
        (None, "password_reset", [], True),
        (None, "cpv:find", [], False),
        (local_supplier_user, "account", [], False),
        (local_supplier_user, "password_change", [], True),
        (local_supplier_user, "notification_preferences", [], False),
        (local_supplier_user, "organisation_edit", [], True),
        (local_supplier_user, "site_add", [], True),
        (local_supplier_user, "person_invite", [], True),
        (officer, "tenders:opportunity_create", [], True),
        (officer, "tenders:opportunity_list", [], False),
        (officer, "supplier_directory", [], False),
        (admin_user, "locality", [], True),
        (officer, "tenders:opportunity_detail", on["draft"], False),
        (officer, "tenders:opportunity_edit", on["draft"], True),
        (officer, "tenders:opportunity_lot_builder", on["draft"], True),
        (officer, "tenders:opportunity_invite", on["draft"], True),
        (officer, "tenders:opportunity_detail", on["open"], False),
        (officer, "tenders:opportunity_extend", on["open"], True),
        (officer, "tenders:opportunity_correct", on["open"], True),
        (officer, "tenders:opportunity_change_value", on["open"], True),
        (officer, "tenders:opportunity_cancel", on["open"], True),
        (auditor, "transparency:register", [], False),
        (admin_user, "tenders:policy_new", [], True),
    ]


def test_every_form_page_styles_every_control_and_summarises_errors_in_page_order(client, pages):
    problems = []
    drawn = posted = 0
    for person, name, args, post in pages:
        client.logout()
        if person is not None:
            client.force_login(person)
        url = reverse(name, args=args)
        answers = [("GET", client.get(url))]
        if post:
            answers.append(("POST", client.post(url, {})))
        for method, response in answers:
            if response.status_code != 200:
                problems.append(f"{method} {url}: {response.status_code}")
                continue
            html = response.content.decode()
            drawn += 1
            posted += method == "POST" and "govuk-error-summary" in html
            problems += [f"{method} {url}: {tag}" for tag in unstyled_controls(html)]
            if summary_out_of_page_order(html):
                problems.append(f"{method} {url}: summary {summary_out_of_page_order(html)}")
    assert problems == []
    assert drawn == len(pages) + sum(post for *_, post in pages)
    assert posted >= 8  # the empty POSTs did show their errors


def summary_links(html: str) -> list[str]:
    start = html.index("govuk-error-summary__list")
    return re.findall(r'href="#([^"]+)"', html[start : html.index("</ul>", start)])


def fields_drawn(html: str, anchors: list[str]) -> list[str]:
    """``anchors`` in the order their elements come on the page."""
    end = html.index("govuk-error-summary__list")
    return sorted(anchors, key=lambda anchor: html.index(f'id="{anchor}"', end))


@pytest.mark.parametrize(
    ("who", "name", "data", "at_least"),
    [
        (None, "register", {"email": "nope", "website": "nope", "is_sme": "maybe"}, 8),
        ("officer", "tenders:opportunity_create", {"lot_rows": "1", "lot_value_1": "x"}, 5),
        ("local_supplier_user", "site_add", {"postcode": "nowhere"}, 3),
    ],
)
def test_a_summary_of_several_errors_lists_them_in_the_order_of_the_page(
    client, demo_data, request, who, name, data, at_least
):
    if who:
        client.force_login(request.getfixturevalue(who))
    html = client.post(reverse(name), data).content.decode()
    links = summary_links(html)
    assert len(links) >= at_least, links
    assert links == fields_drawn(html, links)


def test_a_label_made_from_what_an_officer_typed_is_escaped():
    """The scoring form's labels carry the criterion's name, typed by an
    officer: our copy of crispy-forms-gds's field template escapes the label (the
    package marks it safe), and ``TextSubmit`` shows the button's text as text."""
    from crispy_forms.utils import render_crispy_form

    from tenders.forms.evaluation import ScoreForm

    html = render_crispy_form(ScoreForm(action="/x/", criterion_name='<img src=x onerror="1">'))
    # Nor is it read as template code (crispy-forms renders a button's text so).
    code = render_crispy_form(ScoreForm(action="/x/", criterion_name="{{ form.fields }}"))
    assert "Save the mark for {{ form.fields }}" in code
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;: mark (%)" in html  # the label
    assert "Save the mark for &lt;img src=x onerror=&quot;1&quot;&gt;" in html  # the button
