"""Every page carries a strict Content-Security-Policy and the other security
headers; no template needs inline script or style; production cookies are
secure and HSTS is on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_configuration import _OURS, PRODUCTION

ROOT = Path(__file__).resolve().parent.parent
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy_of(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_security_headers(response) -> None:
    assert policy_of(response) == POLICY
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_sign_in_page_has_the_security_headers(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("name", ["home", "tenders:opportunity_list", "account", "admin:index"])
def test_signed_in_pages_have_the_security_headers(client, admin_user, name):
    client.force_login(admin_user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert_security_headers(response)


def test_the_two_factor_and_lockout_pages_have_the_security_headers(client, officer):
    client.force_login_unverified(officer)
    assert_security_headers(client.get(reverse("two_factor_verify")))
    client.post(reverse("logout"))
    for _ in range(5):
        response = client.post(
            reverse("login"), {"username": officer.email, "password": "wrong password"}
        )
    assert response.status_code == 429
    assert_security_headers(response)


# What a strict policy would block, in any template (pages, emails' HTML too).
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on… event attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_needs_inline_script_or_style():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "notifications" in path.parts:
            continue  # emails: mail clients, not browsers loading our pages
        text = path.read_text()
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {what}")
    assert found == []


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "import json; from django.conf import settings as s;"
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_HTTPONLY,"
        " s.SESSION_COOKIE_NAME, s.X_FRAME_OPTIONS]))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in _OURS}
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code],
        cwd=ROOT,
        env={**clean, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [
        True,
        True,
        True,
        31_536_000,
        True,
        True,
        "__Host-sessionid",
        "DENY",
    ]
