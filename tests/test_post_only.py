"""Addresses only a button uses (POST only), met with a GET (``portal.post_only``):
signing in never leads to one, and a GET finds a page of the portal's (405,
``Allow`` kept) linking to the page the button is on; never a word about an
opportunity the person may not see, who gets the 404 of its page instead."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve, reverse

from portal import post_only
from tenders.models import Opportunity
from tenders.services import clarification_ask, invite, opportunity_publish
from tests.tenders_helpers import make_opportunity
from tests.two_factor_helpers import PASSWORD, code_for, verified_force_login

FRIENDLY = "This address is used by a button on a page of the portal"


@pytest.fixture
def published(officer, local_supplier_user) -> Opportunity:
    opportunity = make_opportunity(officer, "5000.00", title="Town hall windows")
    invite(opportunity=opportunity, suppliers=[local_supplier_user.supplier], by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


def signed_in(user) -> Client:
    client = verified_force_login(Client())
    client.force_login(user)
    return client


def detail(opportunity: Opportunity) -> str:
    return reverse("tenders:opportunity_detail", args=[opportunity.pk])


def test_a_get_to_a_buttons_address_finds_a_page_linking_to_the_page_the_button_is_on(
    officer, published
):
    response = signed_in(officer).get(reverse("tenders:opportunity_publish", args=[published.pk]))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    # The portal's page, with the headers every page has.
    assert "X-Frame-Options" in response and "Content-Security-Policy" in response
    page = response.content.decode()
    assert '<h1 class="govuk-heading-l">This address belongs to a button</h1>' in page
    assert FRIENDLY in page and "Nothing has been changed." in page
    assert f'href="{detail(published)}" id="post-only-parent"' in page
    # Named nowhere: the page says nothing the address does not.
    assert "Town hall windows" not in page and published.reference not in page


def test_head_gets_the_same_status_and_allow_header(officer, published):
    response = signed_in(officer).head(
        reverse("tenders:opportunity_invite_all_local", args=[published.pk])
    )
    assert response.status_code == 405 and response["Allow"] == "POST"


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        ("inbox_mark_all_read", "inbox"),
        ("logout", "home"),
        ("supplier_bulk_approve", "supplier_directory"),
    ],
)
def test_outside_opportunities_the_link_is_the_nearest_page_above(officer, name, parent):
    response = signed_in(officer).get(reverse(name))
    assert response.status_code == 405
    assert f'href="{reverse(parent)}" id="post-only-parent"' in response.content.decode()


def test_someone_who_may_not_see_the_opportunity_gets_its_404_not_a_page_with_a_link(
    published, distant_supplier_user, other_officer, local_supplier_user
):
    url = reverse("tenders:opportunity_publish", args=[published.pk])
    for outsider in (distant_supplier_user, other_officer):  # not invited; another council
        response = signed_in(outsider).get(url)
        assert response.status_code == 404, outsider
        assert detail(published) not in response.content.decode()
    no_such = reverse("tenders:opportunity_publish", args=[published.pk + 1000])
    assert signed_in(other_officer).get(no_such).status_code == 404
    # The invited supplier sees the opportunity: the page, linking to it.
    response = signed_in(local_supplier_user).get(
        reverse("tenders:opportunity_ask", args=[published.pk])
    )
    assert response.status_code == 405
    assert f'href="{detail(published)}"' in response.content.decode()


def test_a_head_to_a_page_is_left_alone(officer):
    """``require_GET`` pages refuse HEAD: not a button's address, no button's page."""
    response = signed_in(officer).head(reverse("home"))
    assert response.status_code == 405 and not response.content


def test_the_methods_read_from_the_views_are_the_ones_they_answer():
    assert post_only.view_methods(resolve("/opportunities/1/publish/").func) == {"POST"}
    assert post_only.view_methods(resolve("/").func) == {"GET"}
    assert {"GET", "POST"} <= (post_only.view_methods(resolve(reverse("login")).func) or set())
    assert post_only.page_for("/opportunities/41/questions/2/answer/") == "/opportunities/41/"
    assert post_only.page_for("/opportunities/41/?tab=bids") == "/opportunities/41/?tab=bids"
    assert post_only.page_for("/no-such-page/") == "/no-such-page/"


def test_signing_in_again_after_a_session_ended_mid_answer_leads_to_the_opportunity(
    client, officer, published, local_supplier_user
):
    """The session ended while the officer sent an answer: the sign-in's ``next``
    is the answer's address; both steps lead to the opportunity's page."""
    question = clarification_ask(opportunity=published, by=local_supplier_user, question="When?")
    answer = reverse("tenders:clarification_answer", args=[published.pk, question.pk])
    response = client.post(answer, {f"q{question.pk}-answer": "Monday."})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get(response["Location"]).status_code == 200
    response = client.post(response["Location"], {"username": officer.email, "password": PASSWORD})
    verify = response["Location"]
    assert verify == reverse("two_factor_verify") + f"?next=%2Fopportunities%2F{published.pk}%2F"
    response = client.post(verify, {"code": code_for(officer)})
    assert response["Location"] == detail(published)
    assert client.get(response["Location"]).status_code == 200


def test_the_second_step_never_leads_to_a_buttons_address(client, officer, published):
    client.force_login_unverified(officer)
    publish = reverse("tenders:opportunity_publish", args=[published.pk])
    verify = reverse("two_factor_verify") + f"?next={publish}"
    response = client.post(verify, {"code": code_for(officer)})
    assert response["Location"] == detail(published)


def test_a_supplier_signing_in_is_led_to_the_page_not_the_button(
    client, local_supplier_user, published
):
    ask = reverse("tenders:opportunity_ask", args=[published.pk])
    response = client.post(
        reverse("login") + f"?next={ask}",
        {"username": local_supplier_user.email, "password": PASSWORD},
    )
    assert response["Location"] == detail(published)
