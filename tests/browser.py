"""Playwright driving Debian's Chromium (no browser download needed)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Where the browser tests put the screenshots they take: build/screenshots/
# (not tracked), or the README's and the issues' pictures in docs/screenshots/
# when asked (``make screenshots``: SCREENSHOTS=docs), so that a test run
# leaves the working tree as it was.
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / ("docs" if os.environ.get("SCREENSHOTS") == "docs" else "build")
SCREENSHOTS /= "screenshots"


def screenshot_path(name: str) -> Path:
    """Where a browser test saves the screenshot ``name`` (a .png file name)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / name


def chromium_problem() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def sign_in(page, email: str, password: str = "demo-password-2026") -> None:
    """Sign in through the real pages, typing the authenticator code (computed
    from the person's secret) when the portal asks for one."""
    from portal.models import User
    from tests.two_factor_helpers import code_for

    page.goto("/sign-in/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/sign-in/two-factor/" in page.url:
        page.get_by_label("Code from your authenticator app").fill(
            code_for(User.objects.get(email__iexact=email))
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Continue").click()
