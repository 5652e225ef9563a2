"""A supplier answers the questionnaire in a browser (issue 17): the word
count follows the typing, and when the session ends before a save, what was
typed is kept on the device, restored after signing in again, and saved."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command

from portal.models import User
from tenders.models import Answer, Opportunity
from tenders.services import invite, opportunity_publish
from tests.browser import sign_in
from tests.evaluation_helpers import add_questionnaire
from tests.tenders_helpers import make_opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPPLIER = "supplier@aire-valley.example"  # Jo Pickles, Aire Valley Cleaning Ltd
TYPED = "We clean every room daily and check it weekly"  # 9 words


@pytest.fixture
def opportunity(transactional_db, in_process_tasks, settings, tmp_path) -> Opportunity:
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    officer = User.objects.get(email="officer@demo-council.example")
    supplier = User.objects.get(email=SUPPLIER).supplier
    opportunity = make_opportunity(officer, "8000.00", title="Library cleaning")
    add_questionnaire(opportunity)
    invite(opportunity=opportunity, suppliers=[supplier], by=officer)
    return opportunity_publish(opportunity=opportunity, by=officer)


def test_what_was_typed_survives_the_end_of_the_session_and_is_saved(page, opportunity):
    question = opportunity.questions.order_by("number").first()
    lot = opportunity.lots.get()
    bid_url = f"/opportunities/{opportunity.pk}/lots/{lot.pk}/bid/"
    sign_in(page, SUPPLIER)
    page.goto(bid_url)
    box = page.locator(f"#id_answer_{question.pk}")
    counter = page.locator(f"#id_answer_{question.pk}-count")
    assert counter.inner_text() == "You have 0 words of 300"  # the server's count
    box.click()
    page.keyboard.type(TYPED)
    assert counter.inner_text() == "You have 9 words of 300"  # counted live

    # The session ends (the cookie is gone) before the supplier saves.
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert "/sign-in/" in page.url
    assert not Answer.objects.filter(text=TYPED).exists()

    sign_in(page, SUPPLIER)
    page.goto(bid_url)
    notice = page.locator("#restored-notice")
    assert notice.is_visible()
    assert "We restored what you typed on this device that was not saved" in notice.inner_text()
    assert box.input_value() == TYPED
    assert counter.inner_text() == "You have 9 words of 300"

    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    assert Answer.objects.get(question=question, revision=None).text == TYPED
    # Saved: the copy on the device is cleared, and no notice shows any more.
    assert not page.locator("#restored-notice").is_visible()
    stored = page.evaluate(
        "() => Object.keys(localStorage).filter((k) => k.startsWith('lt-bid-')).length"
    )
    assert stored == 0
