"""Withdrawing an invitation from a draft, and a draft's invitees who do not
do the kind of work its category now names (it changed since they were
invited): not counted towards the band, not published to."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cpv.models import CpvCode
from portal.models import AuditEvent, Notification
from tenders.models import Invitation, Opportunity
from tenders.services import (
    OpportunityRefused,
    invitation_withdraw,
    invite,
    opportunity_publish,
    opportunity_update_draft,
)
from tests.tenders_helpers import approved_supplier, make_opportunity
from tests.test_opportunity_pages import errors, main_text, supplier_named

AIRE_VALLEY = "Aire Valley Cleaning Ltd"  # cleaning, local
ECCLESHILL = "Eccleshill Facilities Ltd"  # 90911200-8, below cleaning, local
NATIONAL = "National Facilities Group plc"  # cleaning, based in London
CLEANERS = (AIRE_VALLEY, ECCLESHILL, NATIONAL)
PLANTING = "77310000-6"


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def withdraw_url(opportunity: Opportunity) -> str:
    return reverse("tenders:opportunity_invitation_withdraw", args=[opportunity.pk])


def invite_page(opportunity: Opportunity) -> str:
    return reverse("tenders:opportunity_invite", args=[opportunity.pk])


def detail_page(opportunity: Opportunity) -> str:
    return reverse("tenders:opportunity_detail", args=[opportunity.pk])


def cleaning_draft_with_three_cleaners(officer) -> Opportunity:
    """The £20,000 cleaning draft (three quotes: 3 invited, 2 of them local)
    with three cleaning firms invited, one of them not local."""
    opportunity = make_opportunity(officer, "20000.00")
    invite(
        opportunity=opportunity,
        suppliers=[supplier_named(name) for name in CLEANERS],
        by=officer,
        non_local_justification="The only firm with the specialist equipment.",
    )
    return opportunity


def withdraw_buttons(response) -> list[str]:
    """The suppliers named by the page's Withdraw buttons (their hidden text)."""
    return re.findall(
        r'>Withdraw<span class="govuk-visually-hidden"> the invitation to ([^<]+)</span>',
        response.content.decode().replace("&amp;", "&"),
    )


# --- Withdrawing an invitation -------------------------------------------------------


def test_an_invitation_to_a_draft_is_withdrawn_from_the_invite_page_naming_the_supplier(
    officer_client, officer, mailoutbox
):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    aire = supplier_named(AIRE_VALLEY)
    page = officer_client.get(invite_page(opportunity))
    html = page.content.decode()
    assert sorted(withdraw_buttons(page)) == sorted(CLEANERS)
    form = re.search(r'<form method="post" id="withdraw" action="([^"]+)">(.*?)</form>', html)
    assert form is not None and form[1] == withdraw_url(opportunity)
    assert 'name="csrfmiddlewaretoken"' in form[2]
    assert f'form="withdraw" name="supplier" value="{aire.pk}"' in html
    notifications = Notification.objects.count()

    response = officer_client.post(
        withdraw_url(opportunity), {"supplier": aire.pk, "page": "1"}, follow=True
    )

    assert response.redirect_chain[-1][0] == invite_page(opportunity) + "?page=1"
    assert f"Withdrew the invitation to {AIRE_VALLEY}." in main_text(response)
    assert not Invitation.objects.filter(opportunity=opportunity, supplier=aire).exists()
    assert Invitation.objects.filter(opportunity=opportunity).count() == 2
    event = AuditEvent.objects.get(action="invitation.withdrawn")
    assert event.actor == officer
    assert event.object_id == str(opportunity.pk)
    assert event.context == {"supplier": aire.pk, "invited_by": officer.pk}
    # Nobody had been told of it, and nobody is told now.
    assert Notification.objects.count() == notifications
    assert mailoutbox == []
    # Not invited any more: a box to invite it again, no button to withdraw it.
    assert AIRE_VALLEY not in withdraw_buttons(response)
    assert f'name="suppliers" type="checkbox" value="{aire.pk}"' in response.content.decode()


def test_sending_the_withdrawal_again_says_there_is_nothing_to_withdraw(officer_client, officer):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    aire = supplier_named(AIRE_VALLEY)
    officer_client.post(withdraw_url(opportunity), {"supplier": aire.pk})

    response = officer_client.post(withdraw_url(opportunity), {"supplier": aire.pk})

    assert response.status_code == 200
    assert "That supplier is not invited to this opportunity" in errors(response)
    assert "withdrawn already" in errors(response)
    assert AuditEvent.objects.filter(action="invitation.withdrawn").count() == 1
    assert Invitation.objects.filter(opportunity=opportunity).count() == 2


def test_a_withdrawal_naming_no_supplier_is_not_found(officer_client, officer):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    for body in ({}, {"supplier": ""}, {"supplier": "Aire"}):
        assert officer_client.post(withdraw_url(opportunity), body).status_code == 404
    assert Invitation.objects.filter(opportunity=opportunity).count() == 3


def test_the_drafts_page_offers_withdraw_and_comes_back_to_it(officer_client, officer):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    page = officer_client.get(detail_page(opportunity))
    assert sorted(withdraw_buttons(page)) == sorted(CLEANERS)
    national = supplier_named(NATIONAL)

    response = officer_client.post(
        withdraw_url(opportunity), {"supplier": national.pk, "back": "detail"}, follow=True
    )

    assert response.redirect_chain[-1][0] == detail_page(opportunity) + "#invitations"
    assert f"Withdrew the invitation to {NATIONAL}." in main_text(response)
    assert sorted(withdraw_buttons(response)) == [AIRE_VALLEY, ECCLESHILL]
    # Sent again from the draft's page: said there.
    again = officer_client.post(
        withdraw_url(opportunity), {"supplier": national.pk, "back": "detail"}
    )
    assert again.status_code == 200
    assert "The invitation was not withdrawn" in main_text(again)
    assert "nothing to withdraw" in main_text(again)


def test_once_published_an_invitation_is_not_withdrawn_nor_offered(officer_client, officer):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    aire = supplier_named(AIRE_VALLEY)

    assert withdraw_buttons(officer_client.get(invite_page(opportunity))) == []
    assert withdraw_buttons(officer_client.get(detail_page(opportunity))) == []
    assert 'id="withdraw"' not in officer_client.get(invite_page(opportunity)).content.decode()
    with pytest.raises(OpportunityRefused) as refused:
        invitation_withdraw(opportunity=opportunity, supplier_id=aire.pk, by=officer)
    assert "open for bids: you cannot withdraw an invitation" in str(refused.value)
    response = officer_client.post(withdraw_url(opportunity), {"supplier": aire.pk})
    assert response.status_code == 200
    assert "you cannot withdraw an invitation" in errors(response)
    assert Invitation.objects.filter(opportunity=opportunity).count() == 3
    assert not AuditEvent.objects.filter(action="invitation.withdrawn").exists()


def test_only_the_councils_officers_withdraw_an_invitation(
    client, officer, other_officer, auditor, local_supplier_user
):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    aire = supplier_named(AIRE_VALLEY)
    for user, status in ((other_officer, 404), (local_supplier_user, 404), (auditor, 403)):
        client.force_login(user)
        response = client.post(withdraw_url(opportunity), {"supplier": aire.pk})
        assert response.status_code == status, user
    client.force_login(auditor)
    assert withdraw_buttons(client.get(detail_page(opportunity))) == []
    assert client.get(withdraw_url(opportunity)).status_code == 405
    assert Invitation.objects.filter(opportunity=opportunity).count() == 3


def test_a_reservation_refused_for_a_non_local_invitee_points_to_withdrawing_it(
    officer_client, officer
):
    """The dead end the refusal once sent officers down ("write a new draft"):
    withdraw the non-local invitation, then reserve the draft."""
    opportunity = cleaning_draft_with_three_cleaners(officer)
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_update_draft(
            opportunity=opportunity, by=officer, reservation="local", no_cross_border_interest=True
        )
    assert "withdraw their invitations on the invite page" in str(refused.value)
    assert "write a new draft" not in str(refused.value)

    officer_client.post(withdraw_url(opportunity), {"supplier": supplier_named(NATIONAL).pk})
    opportunity_update_draft(
        opportunity=opportunity, by=officer, reservation="local", no_cross_border_interest=True
    )
    opportunity.refresh_from_db()
    assert opportunity.reservation == "local"


# --- A draft whose category changed under its invitees --------------------------------


def test_a_drafts_invitees_outside_its_new_category_are_not_counted_nor_published_to(
    officer_client, officer
):
    opportunity = cleaning_draft_with_three_cleaners(officer)
    opportunity_update_draft(
        opportunity=opportunity, by=officer, cpv=CpvCode.objects.get(code=PLANTING)
    )

    inviting = officer_client.get(invite_page(opportunity))
    text = main_text(inviting)
    assert (
        "Three quotes needs at least 3 invited suppliers, 2 of them local. You have invited 0, "
        "0 of them local, not counting 3 who do not do this kind of work." in text
    )
    assert "Invited, but not doing this kind of work (3)" in text
    assert sorted(withdraw_buttons(inviting)) == sorted(CLEANERS)

    detail = main_text(officer_client.get(detail_page(opportunity)))
    assert (
        f"3 invited suppliers do not do this kind of work ({PLANTING} "
        f"{CpvCode.objects.get(code=PLANTING).description}): {AIRE_VALLEY}, {ECCLESHILL}, "
        f"{NATIONAL}. They are not counted towards the band" in detail
    )
    assert detail.count("Does not do this kind of work") == 3

    response = officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    problems = errors(response)
    assert "These invited suppliers do not do this kind of work" in problems
    assert f"{AIRE_VALLEY}, {ECCLESHILL}, {NATIONAL}" in problems
    assert "withdraw their invitations on the invite page" in problems
    assert "Three quotes needs at least 3 invited suppliers; you have invited 0." in problems
    opportunity.refresh_from_db()
    assert opportunity.status == "draft"

    # Withdrawn, and planters invited instead: published to the planters only.
    for name in CLEANERS:
        invitation_withdraw(
            opportunity=opportunity, supplier_id=supplier_named(name).pk, by=officer
        )
    planters = [approved_supplier(f"Planter {n}", f"BD{n} 1AA", PLANTING) for n in (1, 2, 3)]
    invite(opportunity=opportunity, suppliers=planters, by=officer)
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    assert opportunity.status == "open"


def test_a_category_changed_any_other_way_is_caught_at_publishing(officer, in_process_tasks):
    """Decided when publishing, not when the edit was saved: the admin, a
    command or the shell changing the category meets the same refusal."""
    opportunity = cleaning_draft_with_three_cleaners(officer)
    Opportunity.objects.filter(pk=opportunity.pk).update(cpv=CpvCode.objects.get(code=PLANTING))
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_publish(opportunity=opportunity, by=officer)
    assert "These invited suppliers do not do this kind of work" in str(refused.value)
    assert not Notification.objects.filter(event="opportunity.invitation").exists()


def test_one_invitee_outside_the_category_is_named_alone(officer):
    """Two local cleaners still fit a category above cleaning; a supplier
    whose own category is elsewhere does not, and is the one named."""
    opportunity = make_opportunity(officer, "20000.00")
    printer = approved_supplier("Bradford Printers", "BD1 1AA", "79810000-5")
    invite(
        opportunity=opportunity,
        suppliers=[supplier_named(AIRE_VALLEY), supplier_named(ECCLESHILL), printer],
        by=officer,
    )
    with pytest.raises(OpportunityRefused) as refused:
        opportunity_publish(opportunity=opportunity, by=officer)
    message = str(refused.value)
    assert "This invited supplier does not do this kind of work" in message
    assert "Bradford Printers. It is not counted towards the band" in message
    assert "withdraw its invitation on the invite page" in message
    assert "3 invited suppliers; you have invited 2." in message
    assert AIRE_VALLEY not in message


# --- Query counts: fixed however many are invited ----------------------------------


def test_the_drafts_pages_make_fixed_queries_however_many_invitees_are_outside_its_category(
    officer_client, officer, django_assert_num_queries
):
    opportunity = make_opportunity(officer, "20000.00")
    invite(opportunity=opportunity, suppliers=[supplier_named(AIRE_VALLEY)], by=officer)
    # None outside its category; then one; then all fourteen (its category changed).
    for outside, invitees in ((0, 1), (1, 2), (14, 14)):
        if outside == 1:
            printer = approved_supplier("Bradford Printers", "BD1 1AA", "79810000-5")
            invite(opportunity=opportunity, suppliers=[printer], by=officer)
        if outside == 14:
            cleaners = [approved_supplier(f"Cleaner {n}", f"BD{n} 1AA") for n in range(1, 13)]
            invite(opportunity=opportunity, suppliers=cleaners, by=officer)
            planting = CpvCode.objects.get(code=PLANTING)
            Opportunity.objects.filter(pk=opportunity.pk).update(cpv=planting)
        for url, queries in (
            (detail_page(opportunity), DRAFT_DETAIL_QUERIES),
            (invite_page(opportunity), INVITE_QUERIES + (1 if outside else 0)),
        ):
            officer_client.get(url)  # warm-up
            with django_assert_num_queries(queries):
                response = officer_client.get(url)
            assert len(withdraw_buttons(response)) == invitees, url
        assert main_text(response).count("Does not do this kind of work") == outside


# The draft's page: session, user, two-factor device, the opportunity with its
# facts, lots, its invitees outside its category (names and how many, one query),
# those its council no longer approves (the same, one query), today's route
# (statutory figures, policy, related work, its pieces), the invitees nobody
# could tell (two), criteria, a page of invitations, unread count.
DRAFT_DETAIL_QUERIES = 16
# As in test_opportunity_invitations; the invitees outside the category are
# listed with one query more, when the count read with the others says there are any.
INVITE_QUERIES = 14


# --- An invitee the council suspended after inviting it ---------------------------------


def test_a_drafts_invitee_suspended_since_it_was_invited_blocks_publishing_until_withdrawn(
    officer_client, officer, in_process_tasks
):
    """Decided at the moment of publishing: the council suspended a supplier
    after it was invited to a draft, so the opportunity is not published to it."""
    from suppliers.models import SupplierStatus
    from suppliers.services import supplier_set_status

    opportunity = cleaning_draft_with_three_cleaners(officer)
    supplier_set_status(
        supplier=supplier_named(ECCLESHILL),
        buyer=opportunity.buyer,
        status=SupplierStatus.SUSPENDED,
        reason="Insurance certificate expired.",
        by=officer,
    )

    # The draft's page says so before the officer presses publish.
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert (
        f"An invited supplier is no longer approved by {opportunity.buyer.name}: {ECCLESHILL}. "
        "This draft cannot be published while it is invited: withdraw its invitation" in page
    )
    assert "or reinstate it first." in page
    assert (
        'href="#invitations">withdraw its invitation</a>'
        in officer_client.get(
            reverse("tenders:opportunity_detail", args=[opportunity.pk])
        ).content.decode()
    )

    response = officer_client.post(reverse("tenders:opportunity_publish", args=[opportunity.pk]))
    problems = errors(response)
    assert (
        f"This invited supplier is no longer approved by {opportunity.buyer.name}: "
        f"{ECCLESHILL}." in problems
    )
    assert "withdraw its invitation on the invite page, or reinstate it first" in problems
    opportunity.refresh_from_db()
    assert opportunity.status == "draft"
    assert not Notification.objects.filter(event="opportunity.invitation").exists()

    # Reinstated: nothing stands in the way any more, and all three are told.
    supplier_set_status(
        supplier=supplier_named(ECCLESHILL),
        buyer=opportunity.buyer,
        status=SupplierStatus.APPROVED,
        reason="New certificate seen.",
        by=officer,
    )
    page = main_text(
        officer_client.get(reverse("tenders:opportunity_detail", args=[opportunity.pk]))
    )
    assert "no longer approved" not in page
    opportunity_publish(opportunity=opportunity, by=officer)
    opportunity.refresh_from_db()
    assert opportunity.status == "open"
