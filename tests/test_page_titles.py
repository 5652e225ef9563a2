"""A page's title starts "Error: " once when its form has errors: base.html adds
it for ``form`` and for a refusal's ``problems``, so a page must not add it
again (a screen reader read "Error: Error: Import a spending file")."""

from __future__ import annotations

import re

from tests.test_table_regions import ROOT, page_templates

TITLE = re.compile(r"{% block title %}(.*?){% endblock %}", re.DOTALL)


def test_base_adds_the_error_prefix_for_the_pages_form():
    base = (ROOT / "templates/base.html").read_text()
    assert "{% if form.errors or problems %}Error: {% endif %}" in base


def test_no_page_adds_the_error_prefix_for_the_form_base_already_reads():
    doubled = []
    for path in page_templates():
        match = TITLE.search(path.read_text())
        if match and re.search(r"{% if (form\.errors|problems)\b[^%]*%}\s*Error:", match.group(1)):
            doubled.append(str(path.relative_to(ROOT)))
    assert doubled == []
