"""Every table of a page sits in its own scrolling region, so a wide table
scrolls sideways inside the region on a phone instead of widening the page; the
region takes the keyboard's focus and has a name, so it can be scrolled without
a mouse (axe: scrollable-region-focusable). Pages of the accessibility tests are
also measured at 375px and 320px (tests/test_accessibility.py); this covers the
tables of pages that are not on its list.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Django's admin, emails and the benchmark's page are not pages people use on a phone.
NOT_PAGES = ("templates/admin/", "templates/notifications/", "templates/bench/")
REGION = re.compile(
    r'<div class="lt-table-container" tabindex="0" role="region" aria-label="[^"]+">\s*$'
)


def page_templates() -> list[Path]:
    found = sorted(ROOT.glob("templates/**/*.html")) + sorted(ROOT.glob("*/templates/**/*.html"))
    return [
        path
        for path in found
        if ".venv" not in path.parts
        and "node_modules" not in path.parts
        and not str(path.relative_to(ROOT)).startswith(NOT_PAGES)
    ]


def test_every_table_is_in_a_scrolling_region_with_a_name():
    tables, bare = 0, []
    for path in page_templates():
        text = path.read_text()
        for table in re.finditer(r"<table\b", text):
            tables += 1
            if not REGION.search(text[: table.start()]):
                line = text.count("\n", 0, table.start()) + 1
                bare.append(f"{path.relative_to(ROOT)}:{line}")
    assert tables > 40  # the templates were found
    assert not bare, (
        'Put each table in <div class="lt-table-container" tabindex="0" role="region" '
        'aria-label="(what the table shows)"> … </div>: ' + ", ".join(bare)
    )
