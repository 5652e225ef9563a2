"""Documents on the officer's page: checked by content when uploaded, streamed
only to people who may see the opportunity."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tenders.models import Amendment, OpportunityDocument
from tests.tenders_helpers import make_opportunity
from tests.test_opportunity_pages import errors, main_text, open_opportunity

REAL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def upload(client, opportunity, name: str, content: bytes):
    return client.post(
        reverse("tenders:opportunity_document_add", args=[opportunity.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )


def test_a_fake_pdf_is_refused(officer_client, officer):
    opportunity = make_opportunity(officer, "5000.00")
    response = upload(officer_client, opportunity, "specification.pdf", b"MZ\x90\x00 not a pdf")
    assert "The selected file specification.pdf is not a real PDF file" in errors(response)
    assert not OpportunityDocument.objects.exists()
    response = upload(officer_client, opportunity, "run.exe", b"MZ\x90\x00")
    assert "The selected file must be a PDF" in errors(response)
    response = officer_client.post(
        reverse("tenders:opportunity_document_add", args=[opportunity.pk])
    )
    assert "Choose a file to upload" in errors(response)


def test_a_real_pdf_is_accepted_with_its_hash(officer_client, officer):
    opportunity = make_opportunity(officer, "5000.00")
    response = upload(officer_client, opportunity, "../../specification.pdf", REAL_PDF)
    assert "Document added: specification.pdf." in main_text(response)
    document = OpportunityDocument.objects.get()
    assert document.original_name == "specification.pdf"
    assert document.sha256 == hashlib.sha256(REAL_PDF).hexdigest()
    assert reverse("tenders:opportunity_document", args=[opportunity.pk, document.pk]) in (
        response.content.decode()
    )


def test_a_document_added_to_an_open_opportunity_is_an_amendment(officer_client, officer):
    opportunity = open_opportunity(officer)
    response = upload(officer_client, opportunity, "addendum.pdf", REAL_PDF)
    assert "Invited suppliers have been told." in main_text(response)
    # The kind is shown before it ("Document added: addendum.pdf."), never twice.
    amendment = Amendment.objects.get(opportunity=opportunity)
    assert (amendment.get_kind_display(), amendment.summary) == ("Document added", "addendum.pdf.")


def test_a_document_is_downloaded_only_by_people_who_may_see_the_opportunity(
    client, officer, auditor, local_supplier_user, distant_supplier_user, other_officer
):
    client.force_login(officer)
    opportunity = open_opportunity(officer)
    upload(client, opportunity, "specification.pdf", REAL_PDF)
    document = OpportunityDocument.objects.get()
    url = reverse("tenders:opportunity_document", args=[opportunity.pk, document.pk])
    for person, status in [
        (officer, 200),
        (auditor, 200),
        (local_supplier_user, 200),  # invited
        (distant_supplier_user, 404),  # not invited
        (other_officer, 404),  # another council
    ]:
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == status, person
        if status == 200:
            assert b"".join(response.streaming_content) == REAL_PDF
            assert response["Content-Disposition"].startswith("attachment;")
    client.logout()
    assert client.get(url).status_code == 302  # to sign in


def test_a_draft_document_is_not_downloaded_by_a_supplier_before_publishing(
    client, officer, local_supplier_user
):
    from tenders.services import invite
    from tests.test_opportunity_pages import supplier_named

    client.force_login(officer)
    opportunity = make_opportunity(officer, "5000.00")
    invite(
        opportunity=opportunity, suppliers=[supplier_named("Aire Valley Cleaning Ltd")], by=officer
    )
    upload(client, opportunity, "draft.pdf", REAL_PDF)
    document = OpportunityDocument.objects.get()
    client.force_login(local_supplier_user)
    url = reverse("tenders:opportunity_document", args=[opportunity.pk, document.pk])
    assert client.get(url).status_code == 404
