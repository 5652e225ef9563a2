"""A council's locality: the postcode districts where a supplier counts as local.

Council administrators edit it; the council's officers and auditors read it.
Whether a supplier is local is worked out from the list whenever it is
asked, so a change shows on every page at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal import audit
from portal.forms import gds_helper
from portal.http import SignedInRequest
from portal.models import BuyerOrganisation
from portal.permissions import administrator_of_council, council_of
from portal.postcodes import parse_districts
from portal.services import locality_set

LOCALITY_CHANGED = "buyer.locality_changed"
# Shortest run of consecutive districts written as a range: "BD1, BD2" reads
# better than "BD1–BD2".
MIN_RUN = 3
_DISTRICT = re.compile(r"^(?P<area>[A-Z]{1,2})(?P<number>[0-9]{1,2})(?P<suffix>[A-Z]?)$")


def _sort_key(district: str) -> tuple[str, int, str]:
    match = _DISTRICT.match(district)
    if not match:  # not a district: after the real ones, as written
        return ("~", 0, district)
    return (match["area"], int(match["number"]), match["suffix"])


def collapse_districts(districts: Iterable[str], *, dash: str = "–") -> str:
    """``["BD3", "BD1", "BD2", "LS29"]`` → ``"BD1–BD3, LS29"``: districts in
    order, runs of three or more consecutive numbers in one area as a range.

    The inverse of ``parse_districts`` (which also reads ``dash``); districts
    with a letter after the number (``EC1A``) are never part of a range.
    """
    parts: list[str] = []
    run: list[tuple[str, int]] = []  # (area, number), consecutive

    def close_run() -> None:
        names = [f"{area}{number}" for area, number in run]
        parts.extend([f"{names[0]}{dash}{names[-1]}"] if len(run) >= MIN_RUN else names)
        run.clear()

    for district in sorted(set(districts), key=_sort_key):
        match = _DISTRICT.match(district)
        if match is None or match["suffix"]:
            close_run()
            parts.append(district)
            continue
        area, number = match["area"], int(match["number"])
        if run and run[-1] != (area, number - 1):
            close_run()
        run.append((area, number))
    close_run()
    return ", ".join(parts)


@dataclass(frozen=True)
class LocalityChange:
    at: datetime
    who: str
    added: str
    removed: str


def locality_history(buyer: BuyerOrganisation) -> list[LocalityChange]:
    """Each change of ``buyer``'s locality, newest first, with what it added and removed."""
    events = audit.history_for(buyer).filter(action=LOCALITY_CHANGED).order_by("-at", "-id")
    changes = []
    for event in events:
        before, after = event.changes.get("locality", [[], []])
        before, after = set(before or []), set(after or [])
        changes.append(
            LocalityChange(
                at=event.at,
                who=event.actor.full_name if event.actor else "The portal",
                added=collapse_districts(after - before),
                removed=collapse_districts(before - after),
            )
        )
    return changes


class LocalityForm(forms.Form):
    districts = forms.CharField(
        label="Postcode districts",
        help_text=(
            "Separate districts with commas or put each on its own line. Write a run "
            "as a range, like BD1-BD24"
        ),
        widget=forms.Textarea(attrs={"spellcheck": "false"}),
        max_length=2000,
        error_messages={
            "required": "Enter the postcode districts of your locality, like BD1-BD24",
            "max_length": "Postcode districts must be 2,000 characters or fewer",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.textarea("districts", label_size=Size.MEDIUM, rows=4), submit="Save locality"
        )

    def clean_districts(self) -> list[str]:
        try:
            districts = parse_districts(self.cleaned_data["districts"])
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
        if not districts:
            raise forms.ValidationError(self.fields["districts"].error_messages["required"])
        return districts


@require_http_methods(["GET", "POST"])
def locality(request: SignedInRequest) -> HttpResponse:
    user = request.user
    buyer = council_of(user)
    can_edit = administrator_of_council(user, buyer)
    current = list(buyer.locality_districts.values_list("district", flat=True))
    form = None
    if can_edit:
        form = LocalityForm(
            request.POST or None, initial={"districts": collapse_districts(current, dash="-")}
        )
    elif request.method == "POST":
        raise PermissionDenied("Only your council’s administrators change its locality.")
    # (A POST reaches here only with the form: without it, it is refused above.)
    if request.method == "POST" and form is not None and form.is_valid():
        saved = locality_set(buyer=buyer, districts=form.cleaned_data["districts"], by=user)
        if sorted(saved) == sorted(current):
            messages.success(request, "Nothing changed: the locality was already that.")
        else:
            messages.success(request, f"Locality saved: {collapse_districts(saved)}.")
        return redirect("locality")
    return render(
        request,
        "portal/locality.html",
        {
            "buyer": buyer,
            "districts": collapse_districts(current),
            "district_count": len(current),
            "form": form,
            "history": locality_history(buyer),
        },
    )
