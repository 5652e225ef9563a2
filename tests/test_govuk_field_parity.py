"""``{% govuk_field %}`` and ``{% govuk_error_summary %}`` against crispy-forms-gds.

``portal/templatetags/govuk_fields.py`` draws the busy pages' fields in Python
and promises crispy-forms-gds's markup. Here every field the templates draw
with it (the award register's, the supplier directory's and the opportunity
list's filters, the document, answer and override forms of the officer's
opportunity page), with the options the templates give it and the others it
offers (label and legend sizes, every width, small or normal radios and
checkboxes, a textarea's rows), is drawn both ways for the same form: before it
is sent, sent with good values and sent with errors. Both are parsed and
compared element by element: tags, nesting, every attribute (classes in any order,
``aria-describedby`` in order, ``checked``/``selected`` by presence) and the
text, whitespace collapsed. The error summaries are compared the same way.

Where govuk_field deliberately differs, ``frontend_5`` rewrites crispy's markup
and counts each rewrite, and every test asserts the count it expects: a
difference that appears, disappears or moves anywhere else fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Layout, Size
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.utils.safestring import mark_safe

from portal.models import BuyerOrganisation
from portal.templatetags.govuk_fields import WIDTHS
from suppliers.officer_forms import DirectoryFilterForm
from tenders.forms.actions import AnswerForm, DocumentForm, OverrideForm, StatusFilterForm
from transparency import forms as register_forms
from transparency.register import ROUTES, VALUE_BANDS, RegisterChoices

# --- Markup as a comparable structure ----------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
# Present or not is what counts: ``checked`` and ``checked="checked"`` are the same.
BOOLEAN = {"checked", "disabled", "multiple", "readonly", "required", "selected"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def walk(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.walk()


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        assert len(names) == len(set(names)), f"<{tag}> repeats an attribute: {names}"
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in VOID, f"<{tag}/> is not a void element"
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"</{tag}> closes a void element"
        assert self.open[-1].tag == tag, f"</{tag}> closes <{self.open[-1].tag}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        children = self.open[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def parse(html: str) -> Element:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    assert tree.open == [tree.root], f"<{tree.open[-1].tag}> is never closed"
    return tree.root


def _attribute(name: str, value: str) -> str:
    if name in BOOLEAN:
        return name
    if name == "class":
        value = " ".join(sorted(value.split()))
    elif name == "aria-describedby":
        value = " ".join(value.split())  # the order is the order it is read in
    return f'{name}="{value}"'


def canonical(element: Element, depth: int = 0) -> list[str]:
    """One line per element (attributes sorted) and per text, indented by depth.
    Text is whitespace-collapsed, but a textarea's value is kept exactly."""
    lines = []
    for child in element.children:
        if isinstance(child, str):
            text = repr(child) if element.tag == "textarea" else " ".join(child.split())
            if text:
                lines.append("  " * depth + text)
        else:
            attrs = "".join(" " + _attribute(n, v) for n, v in sorted(child.attrs.items()))
            lines.append(f"{'  ' * depth}<{child.tag}{attrs}>")
            lines += canonical(child, depth + 1)
    return lines


# --- The known differences -----------------------------------------------------------
#
# crispy-forms-gds 2.0.1 still draws three things as GOV.UK Frontend 4 did;
# govuk_field draws them as GOV.UK Frontend 5.14 (the version the project compiles,
# node_modules/govuk-frontend/dist/govuk/components/*/template.njk) does:
#
# - an error message is a <p class="govuk-error-message">, not a <span> (the class
#   styles both alike: display block, the same margins);
# - a select or textarea with an error has govuk-select--error or
#   govuk-textarea--error, not govuk-input--error (the same red border; Frontend 5
#   styles the textarea's focus with its own class);
# - the box around radios or checkboxes has data-module="govuk-radios" or
#   "govuk-checkboxes", so init.mjs starts GOV.UK Frontend's script on it as on
#   every other GOV.UK component.
#
# The rewritten crispy markup is compared with govuk_field's, so its side is pinned too.


def frontend_5(root: Element) -> Counter[str]:
    """Rewrite crispy's markup where govuk_field follows Frontend 5; count the rewrites."""
    changes: Counter[str] = Counter()
    for element in root.walk():
        classes = element.classes
        if element.tag == "span" and "govuk-error-message" in classes:
            element.tag = "p"
            changes["error message a <p>"] += 1
        if element.tag in ("select", "textarea") and "govuk-input--error" in classes:
            own = f"govuk-{element.tag}--error"
            element.attrs["class"] = " ".join(
                own if name == "govuk-input--error" else name for name in classes
            )
            changes[own] += 1
        if (
            element.tag == "div"
            and classes[:1] in (["govuk-radios"], ["govuk-checkboxes"])
            and "data-module" not in element.attrs
        ):
            element.attrs["data-module"] = classes[0]
            changes["data-module"] += 1
    return changes


# --- Drawing a field both ways ------------------------------------------------------


def render(source: str, form: forms.Form, **context: Any) -> str:
    return Template(source).render(Context({"form": form, **context}))


def govuk_source(name: str, options: dict[str, Any]) -> str:
    args = "".join(
        f' {key}="{value}"' if isinstance(value, str) else f" {key}={value}"
        for key, value in options.items()
    )
    return f"{{% load govuk_fields %}}{{% govuk_field form.{name}{args} %}}"


def equivalent_layout(
    form: forms.Form,
    name: str,
    size: str = "s",
    width: int | None = None,
    small: bool = False,
    rows: int | None = None,
) -> Field:
    """The crispy-forms-gds layout object that means what ``govuk_field``'s options mean."""
    widget = form.fields[name].widget
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return Field.checkboxes(name, legend_size=size, small=small)
    if isinstance(widget, forms.RadioSelect):
        return Field.radios(name, legend_size=size, small=small)
    if isinstance(widget, forms.Textarea) and rows:
        return Field.textarea(name, label_size=size, rows=rows)
    if isinstance(widget, forms.TextInput):
        return Field.text(name, label_size=size, field_width=width)
    # A select, a file upload, a textarea with the widget's own rows.
    return Field(name, context={"label_size": Size.for_label(size)})


def own_layout(form: forms.Form, name: str) -> Field:
    """The layout object of the form's own crispy helper for ``name``: what
    crispy drew before govuk_field did."""
    (found,) = [
        item
        for item in form.helper.layout.fields
        if isinstance(item, Field) and item.fields == [name]
    ]
    return found


def crispy_html(form: forms.Form, layout: Field) -> str:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(layout)
    return render("{% load crispy_forms_tags %}{% crispy form helper %}", form, helper=helper)


# --- The forms -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def register_choices(monkeypatch):
    """The register's year, department and category choices without a database."""
    monkeypatch.setattr(
        register_forms,
        "register_choices",
        lambda buyer: RegisterChoices(
            years=[2025, 2024],
            departments=[(7, "Adults & <Children>"), (3, "Highways")],
            categories=[("45", "45 Construction work"), ("90", "90 Sewage & refuse")],
        ),
    )


BUYER = BuyerOrganisation(name="Aire & <Calder> Council")
SELECTS = ("year", "department", "category", "band", "route", "local", "sme", "vcse")
GOOD_REGISTER = {
    "year": "2024",
    "department": "7",
    "category": "90",
    "band": next(iter(VALUE_BANDS)),
    "route": next(iter(ROUTES)),
    "local": "yes",
    "sme": "no",
    "supplier": 'Aire & "Calder"',
}  # vcse left out: a select without a value selects its empty choice


def register(data: dict | None = None) -> forms.Form:
    return register_forms.RegisterFilterForm(data, buyer=BUYER)


def directory(data: dict | None = None) -> forms.Form:
    return DirectoryFilterForm(data, buyer=BUYER)


def answer(data: dict | None = None) -> forms.Form:
    return AnswerForm(data, prefix="q7", action="/answer")


def override(data: dict | None = None) -> forms.Form:
    return OverrideForm(data, action="/override")


def document(data: dict | None = None, files: dict | None = None) -> forms.Form:
    return DocumentForm(data, files, action="/document")


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("tender.pdf", b"%PDF-1.7 tender", "application/pdf")


def refused(form: forms.Form) -> forms.Form:
    """A valid document the upload then refuses twice, as the view adds refusals."""
    assert form.is_valid()
    form.add_error("file", "The file is not a PDF, Word or Excel document")
    form.add_error("file", "The file is larger than 25 MB")
    return form


class Options(forms.Form):
    """govuk_field's options that the templates do not use (yet)."""

    name = forms.CharField(label="Name", max_length=30, initial="Aire & Calder")
    kind = forms.ChoiceField(label="Kind", choices=[("a", "A"), ("b", "B")], initial="b")
    notes = forms.CharField(
        label="Notes", widget=forms.Textarea(attrs={"rows": 3}), help_text="A line or two."
    )
    colour = forms.ChoiceField(
        label="Colour",
        choices=[("red", "Red"), ("blue", "Blue & <green>")],
        widget=forms.RadioSelect,
        help_text="Pick one.",
        initial="blue",
    )
    extras = forms.MultipleChoiceField(
        label="Extras",
        choices=[("x", "X"), ("y", "Y"), ("z", "Z")],
        widget=forms.CheckboxSelectMultiple,
        help_text="Any you like.",
        initial=["x", "z"],
    )
    upload = forms.FileField(label="Upload")


GOOD_OPTIONS = {
    "name": "Aire",
    "kind": "a",
    "notes": "\nA <line>",
    "colour": "red",
    "extras": ["y"],
}
BAD_OPTIONS = {"name": "x" * 31, "kind": "c", "notes": "", "colour": "pink", "extras": ["w"]}


def options(sent: str | None = None) -> forms.Form:
    """The form before it is sent, or sent "good" (with a file) or "bad" (without)."""
    if sent is None:
        return Options()
    if sent == "good":
        return Options(GOOD_OPTIONS, {"upload": pdf()})
    return Options(BAD_OPTIONS, {})


def twice(form: forms.Form) -> forms.Form:
    """A field with two errors: ids ``_1_error`` and ``_2_error``, both described."""
    form.is_valid()
    form.add_error("name", "Enter a name that is not a number")
    return form


@dataclass(frozen=True)
class Case:
    id: str
    field: str
    options: dict[str, Any]
    form: Callable[[], forms.Form]
    own_helper: bool = False  # compare with the form's own crispy layout too

    def make(self) -> forms.Form:
        form = self.form()
        if form.is_bound:
            form.is_valid()
        return form


def states(
    field: str,
    opts: dict[str, Any],
    make: Callable[..., forms.Form],
    good: dict,
    bad: dict,
    own_helper: bool = False,
) -> list[Case]:
    """The field before the form is sent, sent with good values and sent with bad ones."""
    name = f"{make.__name__}.{field}" + "".join(f",{k}={v}" for k, v in opts.items())
    return [
        Case(f"{name}:{state}", field, opts, lambda data=data: make(data), own_helper)
        for state, data in (("unbound", None), ("good", good), ("errors", bad))
    ]


CASES = [
    # transparency/register.html
    *[
        case
        for select in SELECTS
        for case in states(select, {}, register, GOOD_REGISTER, {select: "1066"})
    ],
    *states("supplier", {"width": 20}, register, GOOD_REGISTER, {"supplier": "x" * 101}),
    # suppliers/officer/directory.html
    *states("q", {}, directory, {"q": "cleaning <Bradford>"}, {"q": "x" * 201}),
    # A CPV code is looked up in the database; an empty one and a badly shaped one are not.
    *states("category", {"width": 10}, directory, {"q": "a"}, {"category": "cleaning"}),
    *states("only", {"small": True}, directory, {"only": ["local", "vcse"]}, {"only": ["x"]}),
    *states("status", {}, directory, {"status": "approved"}, {"status": "gone"}),
    # tenders/officer/list.html
    *states("status", {}, StatusFilterForm, {"status": "open"}, {"status": "shut"}),
    # tenders/officer/detail.html
    *states(
        "answer",
        {"rows": 4},
        answer,
        {"q7-answer": "Yes & <no>\nand more", "q7-visibility": "private"},
        {"q7-answer": ""},
        own_helper=True,
    ),
    *states(
        "visibility",
        {"small": True},
        answer,
        {"q7-answer": "Yes", "q7-visibility": "private"},
        {"q7-visibility": "some"},
        own_helper=True,
    ),
    *states(
        "justification",
        {"rows": 4},
        override,
        {"justification": "The drains are a separate contract <b>"},
        {"justification": "short"},
        own_helper=True,
    ),
    Case("document.file:unbound", "file", {}, document, own_helper=True),
    Case("document.file:errors", "file", {}, lambda: document({}, {}), own_helper=True),
    Case(
        "document.file:refused twice",
        "file",
        {},
        lambda: refused(document({}, {"file": pdf()})),
        own_helper=True,
    ),
    # The other options govuk_field offers.
    *[
        case
        for field_name in ("name", "kind", "notes", "colour", "extras", "upload")
        for size in ("m", "l")
        for case in states(field_name, {"size": size}, options, "good", "bad")
    ],
    *[
        case
        for width in sorted(WIDTHS)
        for case in states("name", {"width": width}, options, "good", "bad")
    ],
    *states("notes", {"rows": 7}, options, "good", "bad"),
    *states("colour", {"small": True}, options, "good", "bad"),
    *states("extras", {"small": True}, options, "good", "bad"),
    Case("options.name:two errors", "name", {}, lambda: twice(options("bad"))),
]


def expected_rewrites(form: forms.Form, name: str) -> Counter[str]:
    widget = form.fields[name].widget
    errors = len(form[name].errors)
    expected: Counter[str] = Counter()
    if errors:
        expected["error message a <p>"] = errors
        if isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
            expected["govuk-select--error"] = 1
        if isinstance(widget, forms.Textarea):
            expected["govuk-textarea--error"] = 1
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        expected["data-module"] = 1
    return expected


def assert_same_markup(case: Case, layout: Callable[[forms.Form], Field]) -> list[str]:
    # A new form for each: crispy writes its classes and aria-describedby into the
    # form's widgets as it draws them.
    form = case.make()
    ours = parse(render(govuk_source(case.field, case.options), form))
    other_form = case.make()
    theirs = parse(crispy_html(other_form, layout(other_form)))
    assert frontend_5(theirs) == expected_rewrites(form, case.field)
    assert canonical(ours) == canonical(theirs)
    return canonical(ours)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_govuk_field_draws_what_crispy_forms_gds_draws(case: Case):
    lines = assert_same_markup(
        case, lambda form: equivalent_layout(form, case.field, **case.options)
    )
    assert lines[0].startswith('<div class="govuk-form-group')
    if case.own_helper:
        assert_same_markup(case, lambda form: own_layout(form, case.field))


def test_the_cases_cover_every_state_and_what_they_should():
    """Guards the comparison itself: the bad values give errors, the good ones do
    not, and the drawn values, choices and ticks are there to be compared."""
    for case in CASES:
        form = case.make()
        bound = form[case.field]
        if case.id.endswith(":errors") or "twice" in case.id or "two errors" in case.id:
            assert bound.errors, case.id
        else:
            assert not bound.errors, case.id
    html = {case.id: render(govuk_source(case.field, case.options), case.make()) for case in CASES}
    assert 'value="2024" selected' in html["register.year:good"]
    assert '<option value="" selected>' in html["register.vcse:good"]
    assert 'value="Aire &amp; &quot;Calder&quot;"' in html["register.supplier,width=20:good"]
    assert 'value="private" checked' in html["answer.visibility,small=True:good"]
    assert 'value="vcse" checked' in html["directory.only,small=True:good"]
    assert "Local to Aire &amp; &lt;Calder&gt; Council" in html["directory.only,small=True:good"]
    assert 'id="id_q7-answer"' in html["answer.answer,rows=4:good"]
    assert 'id="id_file_2_error"' in html["document.file:refused twice"]
    assert 'id="id_name_2_error"' in html["options.name:two errors"]


# --- What govuk_field escapes and crispy does not --------------------------------------


class Marked(forms.Form):
    plain = forms.CharField(label="Fish & <em>chips</em>", help_text="<b>Hot</b> & salted")
    safe = forms.CharField(
        label=mark_safe("Fish &amp; <em>chips</em>"), help_text=mark_safe("<b>Hot</b> &amp; salted")
    )


def test_a_label_or_hint_is_escaped_unless_marked_safe_where_crispy_trusts_both():
    """crispy-forms-gds prints a field's label and help text with ``|safe``;
    govuk_field escapes them like any value (Django's own ``label_tag`` escapes
    a label too), so a label made from data cannot add markup, and so does the
    project's copy of crispy's field template (templates/gds/field.html) for the
    label (help text is the code's own). A label or hint marked safe is printed
    as it is, as crispy prints it."""
    ours = parse(render(govuk_source("plain", {}), Marked()))
    theirs = parse(crispy_html(Marked(), equivalent_layout(Marked(), "plain")))
    our_label = next(e for e in ours.walk() if e.tag == "label")
    their_label = next(e for e in theirs.walk() if e.tag == "label")
    assert our_label.children == ["Fish & <em>chips</em>"]
    assert [c.strip() for c in their_label.children] == ["Fish & <em>chips</em>"]  # escaped too
    our_hint = next(e for e in ours.walk() if "govuk-hint" in e.classes)
    their_hint = next(e for e in theirs.walk() if "govuk-hint" in e.classes)
    assert our_hint.children == ["<b>Hot</b> & salted"]
    assert [e.tag for e in their_hint.walk()] == ["div", "b"]

    assert_same_markup(
        Case("marked.safe", "safe", {}, Marked), lambda form: equivalent_layout(form, "safe")
    )


# --- The error summary -------------------------------------------------------------------


def summaries(make: Callable[[], forms.Form]) -> tuple[str, str]:
    """``{% govuk_error_summary %}`` and crispy-forms-gds's ``{% error_summary %}``
    (the project's templates/gds/layout/error_summary.html, which links to a
    group's first radio or checkbox) as templates/tenders/officer/detail.html
    uses it, for two copies of the same form."""
    ours = render("{% load govuk_fields %}{% govuk_error_summary form %}", make())
    form = make()
    if not hasattr(form, "helper"):
        # crispy's summary draws nothing for a form without a helper.
        form.helper = FormHelper()
    theirs = render("{% load crispy_forms_gds %}{% error_summary form %}", form)
    return ours, theirs


def with_problem(form: forms.Form) -> forms.Form:
    """A refusal of the whole form, as the views add them after ``is_valid``."""
    assert form.is_valid()
    form.add_error(None, "The question was answered a minute ago")
    return form


def validated(form: forms.Form) -> forms.Form:
    form.is_valid()
    return form


SUMMARIES = {
    "register": (
        lambda: validated(register({"year": "1066", "supplier": "x" * 101, "route": "by air"})),
        ["#id_year", "#id_supplier", "#id_route"],
    ),
    "directory": (
        lambda: validated(
            directory({"q": "x" * 201, "category": "cleaning", "only": ["x"], "status": "gone"})
        ),
        ["#id_q", "#id_category", "#id_only_1", "#id_status"],
    ),
    "officer list": (lambda: validated(StatusFilterForm({"status": "shut"})), ["#id_status"]),
    "answer": (lambda: validated(answer({})), ["#id_q7-answer", "#id_q7-visibility_1"]),
    "answer refused": (
        lambda: with_problem(answer({"q7-answer": "Yes", "q7-visibility": "all"})),
        ["#id_q7-answer"],
    ),
    "override": (lambda: validated(override({"justification": "short"})), ["#id_justification"]),
    "document": (lambda: refused(document({}, {"file": pdf()})), ["#id_file", "#id_file"]),
    "options": (lambda: twice(options("bad")), None),
}


@pytest.mark.parametrize("name", SUMMARIES)
def test_govuk_error_summary_draws_what_crispy_forms_gds_draws(name):
    make, links = SUMMARIES[name]
    ours, theirs = summaries(make)
    assert canonical(parse(ours)) == canonical(parse(theirs))
    hrefs = [e.attrs["href"] for e in parse(ours).walk() if e.tag == "a"]
    if links is not None:
        assert hrefs == links
    else:
        assert hrefs[:3] == ["#id_name", "#id_name", "#id_kind"]
        assert "#id_colour_1" in hrefs and "#id_extras_1" in hrefs


@pytest.mark.parametrize(
    "make",
    [
        lambda: register(),
        lambda: register(GOOD_REGISTER),
        lambda: directory(),
        lambda: answer(),
        lambda: document(),
        lambda: validated(override({"justification": "x" * 20})),
    ],
    ids=["register", "register sent", "directory", "answer", "document", "override sent"],
)
def test_neither_summary_draws_anything_without_errors(make):
    ours, theirs = summaries(make)
    assert ours == ""
    assert theirs.strip() == ""
