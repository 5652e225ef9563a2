"""Page numbers people (or robots) make up never break a page (issue 14).

Every list page of the portal that is paged, for every persona that may read
it (officer, supplier, auditor, administrator; the URL patterns and their
objects as in ``test_permission_matrix``), answered for a page past any end
(``99999999999999999999999``, more than a database's OFFSET takes), a
negative page and a page that is not a number: 200 with the first or the
last page, or 404; never a 500. Django admin's changelists (``?p=``) send a
page that is not there to their first page (``?e=1``), which is followed.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.paginator import Page
from django.test import Client
from django.test.utils import ContextList

from tests import test_permission_matrix as matrix
from tests.test_permission_matrix import (
    POST_MATRIX,
    SIGNS_OUT,
    every_pattern,
    expectations,
    parse,
    url_for,
)
from tests.two_factor_helpers import verified_force_login

# The permission matrix's two worlds (and their clock), with their objects.
clock = matrix.clock
worlds = matrix.worlds

BAD_PAGES = ["99999999999999999999999", "-1", "abc"]
# Every query parameter that names a page: the portal's own, and Django admin's
# (whose changelists take no parameter they do not know).
PAGE_PARAMETERS = ["page", "invited_page"]
ADMIN_PAGE_PARAMETERS = ["p"]
APPS = ["portal", "suppliers", "tenders", "transparency", "cpv"]


def test_every_page_parameter_of_the_code_is_tried():
    """A paginator reading a parameter of another name would be missed below."""
    root = Path(__file__).resolve().parent.parent
    read = set()
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            read |= set(re.findall(r"GET\.get\(\s*\"(\w*page\w*|p)\"", path.read_text()))
    assert read and read <= {*PAGE_PARAMETERS, *ADMIN_PAGE_PARAMETERS}, sorted(read)


def pages_of(response) -> list[tuple[int, int]]:
    """(number, number of pages) of each list a response drew a page of: a
    portal page's, or a Django admin changelist's."""
    found = []
    contexts = response.context
    if contexts is None:
        return found
    for context in contexts if isinstance(contexts, ContextList) else [contexts]:
        for value in context.flatten().values():
            if isinstance(value, Page):
                found.append((value.number, value.paginator.num_pages))
            elif hasattr(value, "result_list") and hasattr(value, "multi_page"):  # ChangeList
                # One page shows whatever the number; more are checked by the changelist.
                number = value.page_num if value.multi_page else 1
                found.append((number, value.paginator.num_pages))
    return found


def test_a_page_number_past_the_end_negative_or_not_a_number_never_gives_a_500(
    worlds, auditor, admin_user, local_supplier_user
):
    a, _b = worlds
    personas = {
        # persona → (person, the matrix's column for its own objects, for no objects)
        "officer": (a.officers[0], "offA*", "offA"),
        "supplier": (local_supplier_user, "supA*", "supA"),
        "auditor": (auditor, "audA*", "audA"),
        "admin": (admin_user, "admA*", "admA"),
    }
    routes = every_pattern()
    paged, problems = [], []
    for persona, (person, own, plain) in personas.items():
        client = verified_force_login(Client(raise_request_exception=False))
        client.force_login(person)
        for key, line in sorted(expectations().items()):
            if key in POST_MATRIX or key in SIGNS_OUT:
                continue
            expected = parse(line)
            column = own if expected[own] != "-" else plain
            if expected[column] != "200":
                continue
            url = url_for(key, routes[key], a, a)
            response = client.get(url)
            if response.status_code != 200 or not pages_of(response):
                continue
            paged.append((persona, key))
            for bad in BAD_PAGES:
                names = ADMIN_PAGE_PARAMETERS if url.startswith("/admin/") else PAGE_PARAMETERS
                query = "&".join(f"{name}={bad}" for name in names)
                asked = f"{url}{'&' if '?' in url else '?'}{query}"
                answer = client.get(asked, follow=True)
                hops = [code for _url, code in answer.redirect_chain]
                if answer.status_code not in {200, 404} or any(c >= 500 for c in hops):
                    problems.append(f"{persona} {asked}: {hops} {answer.status_code}")
                    continue
                for number, last in pages_of(answer) if answer.status_code == 200 else []:
                    if number not in {1, last}:
                        problems.append(f"{persona} {asked}: page {number} of {last}")
    assert problems == [], "\n".join(problems)
    # The walk is not blind: each persona's paged lists were found and asked for.
    keys = {key for _persona, key in paged}
    for expected_key in [
        "inbox",
        "tenders:opportunity_list",
        "supplier_directory",
        "tenders:full_tender_register",
        "transparency:register",
        "transparency:flags",
        "transparency:opportunity_history",
        "tenders:opportunity_detail",
        "cpv:find",
        "admin:portal_auditevent_changelist",
        "admin:portal_notification_changelist",
    ]:
        assert expected_key in keys, expected_key
    assert {persona for persona, _key in paged} == set(personas)
