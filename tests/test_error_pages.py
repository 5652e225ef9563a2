import logging

import pytest


@pytest.mark.urls("tests.urls_with_fault")
def test_a_server_error_shows_no_details_and_logs_the_traceback(client, officer, caplog):
    client.raise_request_exception = False
    client.force_login(officer)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/broken/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page
    assert "hunter2" not in page and "Traceback" not in page
    record = next(r for r in caplog.records if r.name == "django.request")
    assert record.exc_info is not None
    assert "hunter2" in str(record.exc_info[1])


def test_an_anonymous_visitor_mistyping_a_url_gets_the_govuk_404_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert "If you typed the web address, check it is correct." in page
