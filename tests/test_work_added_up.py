"""The work the threshold rule adds up with an opportunity (issue 19: the
page of an opportunity in a busy category listed hundreds of pieces in one
sentence, 38 KB). The route's reason counts the pieces and gives their total;
the pieces are listed on a page of their own, twenty at a time, for the
council's own people only: on today's facts while the route can change, as
last recorded once the opportunity is awarded or cancelled."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import User
from tenders.models import Opportunity, OpportunityStatus
from tests.tenders_helpers import make_opportunity
from tests.test_opportunity_pages import main_text


def published(officer: User, value: str, title: str, days_ago: int) -> Opportunity:
    """Work of the same category published ``days_ago`` (within the window)."""
    opportunity = make_opportunity(officer, value, title=title)
    Opportunity.objects.filter(pk=opportunity.pk).update(
        status=OpportunityStatus.OPEN,
        published_at=timezone.now() - datetime.timedelta(days=days_ago),
    )
    return opportunity


def added_up_url(opportunity: Opportunity, page: int = 1) -> str:
    url = reverse("tenders:opportunity_work_added_up", args=[opportunity.pk])
    return url + (f"?page={page}" if page > 1 else "")


def test_the_route_names_a_few_pieces_and_counts_many(client, officer):
    """Up to ten other pieces are named in the route's reason, as the refusal
    names them; more are counted there, with their total, and listed apart."""
    for n in range(10):
        published(officer, "17000.00", f"Earlier cleaning {n:02d}", days_ago=60 - n)
    draft = make_opportunity(officer, "10000.00", title="Carpet cleaning")
    detail = reverse("tenders:opportunity_detail", args=[draft.pk])
    client.force_login(officer)
    with CaptureQueriesContext(connection) as few_queries:
        page = main_text(client.get(detail))
    assert "With 10 other pieces of work" in page and "the total is £180,000.00" in page
    assert all(f"Earlier cleaning {n:02d} (£17,000.00" in page for n in range(10))
    assert "See the 10 pieces of work added up" in page

    published(officer, "1000.00", "Earlier cleaning 10", days_ago=20)
    with CaptureQueriesContext(connection) as many_queries:
        page = main_text(client.get(detail))
    assert "With 11 other pieces of work" in page and "the total is £181,000.00" in page
    assert "Earlier cleaning" not in page
    assert "See the 11 pieces of work added up" in page
    assert len(many_queries) == len(few_queries)


def test_the_route_counts_the_work_and_its_page_lists_it_a_page_at_a_time(client, officer):
    for n in range(25):
        published(officer, "1000.00", f"Earlier cleaning {n:02d}", days_ago=60 - n)
    draft = make_opportunity(officer, "5000.00", title="Carpet cleaning")
    client.force_login(officer)

    page = main_text(client.get(reverse("tenders:opportunity_detail", args=[draft.pk])))
    assert "See the 25 pieces of work added up" in page
    assert "Earlier cleaning" not in page  # counted, not listed

    with CaptureQueriesContext(connection) as first_queries:
        first = main_text(client.get(added_up_url(draft)))
    with CaptureQueriesContext(connection) as second_queries:
        second = main_text(client.get(added_up_url(draft, page=2)))
    assert "25 pieces of work" in first and "Showing 1 to 20" in first
    shown = [f"Earlier cleaning {n:02d}" for n in range(25)]
    # Oldest first, twenty a page.
    assert all(title in first for title in shown[:20])
    assert not any(title in first for title in shown[20:])
    assert all(title in second for title in shown[20:]) and "Showing 21 to 25" in second
    assert first.index(shown[0]) < first.index(shown[19])
    assert "The other work comes to £25,000.00; with this opportunity, £30,000.00" in first
    assert len(first_queries) == len(second_queries)


def test_with_no_other_work_the_route_has_no_link_and_the_page_says_so(client, officer):
    draft = make_opportunity(officer, "5000.00", cpv="45000000-7", title="Roof repairs")
    client.force_login(officer)
    page = main_text(client.get(reverse("tenders:opportunity_detail", args=[draft.pk])))
    assert "pieces of work added up" not in page and "piece of work added up" not in page
    listed = main_text(client.get(added_up_url(draft)))
    assert "No other work in the same category is added up with this opportunity." in listed


def test_a_cancelled_opportunity_lists_what_its_recorded_decision_added_up(client, officer):
    earlier = published(officer, "100000.00", "Window cleaning", days_ago=30)
    draft = make_opportunity(officer, "100000.00", title="Carpet cleaning")  # checked: recorded
    Opportunity.objects.filter(pk=draft.pk).update(status=OpportunityStatus.CANCELLED)
    # Today's facts changed since: the recorded decision is what is shown.
    Opportunity.objects.filter(pk=earlier.pk).update(title="Renamed since")
    client.force_login(officer)
    listed = main_text(client.get(added_up_url(draft)))
    assert "Window cleaning" in listed and "Renamed since" not in listed
    assert "1 piece of work" in listed and "£100,000.00" in listed


def test_only_the_councils_own_people_see_it(client, officer, auditor, other_officer):
    published(officer, "1000.00", "Window cleaning", days_ago=30)
    draft = make_opportunity(officer, "5000.00", title="Carpet cleaning")
    supplier = User.objects.get(email="supplier@aire-valley.example")
    for person, status in [(auditor, 200), (other_officer, 404), (supplier, 404)]:
        client.force_login(person)
        response = client.get(added_up_url(draft))
        assert response.status_code == status, person.email
        if status == 404:
            assert b"Window cleaning" not in response.content


def test_the_command_and_the_page_decide_alike_above_ten_pieces(client, officer):
    """``route_to_market --opportunity`` names every piece (as a refusal does);
    the page counts them above ten: the same route, band, sums and count."""
    import json
    from io import StringIO

    from django.core.management import call_command

    for n in range(12):
        published(officer, "16000.00", f"Earlier cleaning {n:02d}", days_ago=60 - n)
    draft = make_opportunity(officer, "5000.00", title="Carpet cleaning")
    client.force_login(officer)
    shown = client.get(reverse("tenders:opportunity_detail", args=[draft.pk])).context["route"]
    out = StringIO()
    call_command("route_to_market", opportunity=draft.pk, json=True, stdout=out)
    told = json.loads(out.getvalue())
    assert (told["route"], told["band"], told["related_count"]) == (
        shown.route,
        None,
        shown.related_count,
    )
    assert told["related_count"] == 12 and shown.route == "full_tender"
    assert len(told["aggregated"]) == 12 and shown.aggregated == []
    assert all(f"Earlier cleaning {n:02d}" in told["reasons"][0] for n in range(12))
    assert "Earlier cleaning" not in " ".join(shown.reasons)
    assert "With 12 other pieces of work" in " ".join(shown.reasons)
    assert "£197,000.00" in told["reasons"][0] and "£197,000.00" in " ".join(shown.reasons)


def test_the_pages_first_pieces_are_the_ormss_first_rows(officer):
    """The opportunity's page reads its category's first pieces in plain SQL
    (``routes._first_pieces``): the same rows, values and London dates as the
    ORM's ``_pieces`` cut to the same number, on either database: a piece with
    an extra lot, one published a minute after a London midnight, a cancelled
    one and one outside the window left out."""
    from decimal import Decimal as D

    from tenders.models import Lot
    from tenders.selectors import policy_in_force
    from tenders.services import routes

    pieces = [published(officer, f"{1000 + n}.50", f"Cleaning {n:02d}", 30 - n) for n in range(14)]
    Lot.objects.create(opportunity=pieces[2], number=2, title="More", estimated_value=D("99.99"))
    Opportunity.objects.filter(pk=pieces[3].pk).update(status=OpportunityStatus.CANCELLED)
    Opportunity.objects.filter(pk=pieces[4].pk).update(
        published_at=timezone.now() - datetime.timedelta(days=900)
    )
    just_after_midnight = datetime.datetime(2026, 6, 30, 23, 1, tzinfo=datetime.UTC)  # 00:01 BST
    Opportunity.objects.filter(pk=pieces[5].pk).update(published_at=just_after_midnight)
    on = timezone.localdate()
    policy = policy_in_force(officer.buyer_id, on)
    key = pieces[0].cpv_id[: policy.aggregation_cpv_digits]
    for first in [1, 11, 40]:
        orm = list(
            routes._pieces(buyer_id=officer.buyer_id, keys=[key], policy=policy, on=on)[:first]
        )
        sql = routes._first_pieces(
            buyer_id=officer.buyer_id, keys=[key, "999"], policy=policy, on=on, first=first
        )
        assert sql == orm and all(isinstance(row[4], D) for row in sql)
    assert len(orm) == 12
