"""``manage.py route_to_market``: the same rule, for officers checking first."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.tenders_helpers import make_opportunity


def run(*args):
    out = io.StringIO()
    call_command("route_to_market", *args, stdout=out)
    return out.getvalue()


def test_just_below_the_threshold_is_the_invited_tender_band(demo_data):
    data = json.loads(
        run(
            "--buyer",
            "demo-council",
            "--value",
            "179999.99",
            "--cpv",
            "90910000-9",
            "--date",
            "2026-05-01",
            "--json",
        )
    )
    assert data["route"] == "invitation"
    assert data["band"] == "Invited tender"
    assert (data["min_invited"], data["min_local"]) == (4, 3)
    assert data["threshold"] == "180000.00"
    assert data["value_compared"] == "179999.99"
    assert data["aggregated_value"] == "179999.99"
    assert data["policy_version"] == 1
    assert data["reasons"] and all(isinstance(r, str) for r in data["reasons"])


def test_at_the_threshold_is_full_tender_in_plain_words(demo_data):
    text = run("--buyer", "demo-council", "--value", "180000", "--cpv", "90910000-9")
    assert text.startswith("Route: Full tender required")
    assert "£180,000.00 is at or above the local threshold of £180,000.00" in text


def test_an_estimate_excluding_vat(demo_data):
    data = json.loads(
        run(
            "--buyer",
            "demo-council",
            "--value",
            "150000",
            "--vat",
            "excl",
            "--cpv",
            "90910000-9",
            "--json",
        )
    )
    assert (data["route"], data["value_compared"]) == ("full_tender", "180000.00")


def test_a_saved_opportunity(officer):
    opportunity = make_opportunity(officer, "100000.00", "80000.00")
    data = json.loads(run("--opportunity", str(opportunity.pk), "--json"))
    assert data["route"] == "full_tender" and data["value_compared"] == "180000.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--buyer", "nowhere", "--value", "1", "--cpv", "90910000-9"],
            "No buyer organisation 'nowhere'",
        ),
        (
            ["--buyer", "demo-council", "--value", "-5", "--cpv", "90910000-9"],
            "must be zero or more",
        ),
        (
            ["--buyer", "demo-council", "--value", "lots", "--cpv", "90910000-9"],
            "must be an amount",
        ),
        (["--buyer", "demo-council", "--value", "1", "--cpv", "9091"], "Enter a CPV code like"),
        (["--buyer", "demo-council", "--value", "1", "--cpv", "90910000-1"], "check digit"),
        (
            [
                "--buyer",
                "demo-council",
                "--value",
                "1",
                "--cpv",
                "90910000-9",
                "--date",
                "2020-01-01",
            ],
            "no procurement policy in force on 1 January 2020",
        ),
        (
            [
                "--buyer",
                "demo-council",
                "--value",
                "1",
                "--cpv",
                "90910000-9",
                "--date",
                "01/05/2026",
            ],
            "--date must be YYYY-MM-DD",
        ),
        (
            ["--buyer", "demo-council", "--value", "1", "--cpv", "90910000-9", "--vat", "maybe"],
            "--vat must be incl or excl",
        ),
    ],
)
def test_bad_input_stops_with_one_clear_line(demo_data, args, message):
    with pytest.raises(CommandError, match=message) as error:
        run(*args)
    assert "\n" not in str(error.value)


def test_the_command_exits_non_zero_with_one_line_on_stderr():
    import subprocess
    import sys

    # Checked before the database is touched, so this runs anywhere.
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "route_to_market",
            "--buyer",
            "demo-council",
            "--value",
            "12x",
            "--cpv",
            "90910000-9",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "CommandError: --value must be an amount in pounds, like 179999.99; got '12x'."
    ]
