"""Finding a CPV code: a page for people and a JSON search for scripts and widgets.

Both are public: the vocabulary is open data, and suppliers pick their
categories while registering, before they can sign in. Neither changes anything.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cpv import selectors
from cpv.forms import CpvSearchForm
from portal.paging import page_with_total

PAGE_SIZE = 25


def _council_of(request: HttpRequest) -> int | None:
    """The council whose own synonyms this person's searches also use, if any."""
    buyer_id: int | None = getattr(request.user, "buyer_id", None)
    return buyer_id


@login_not_required
@require_GET
def find(request: HttpRequest) -> HttpResponse:
    """Search by words or code; with no search, the 45 divisions to start from."""
    form = CpvSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    number = request.GET.get("page")
    # Each page and its count in one query.
    if form.errors:
        page = page_with_total(selectors.codes_matching(""), number, PAGE_SIZE)  # nothing
    elif query:
        page = selectors.search_page(query, number, PAGE_SIZE, buyer_id=_council_of(request))
    else:
        page = page_with_total(selectors.divisions(), number, PAGE_SIZE)
    return render(
        request,
        "cpv/find.html",
        {
            "form": form,
            "query": query,
            "page": page,
            "codes": list(page.object_list),
            "page_range": page.paginator.get_elided_page_range(
                page.number, on_each_side=1, on_ends=1
            ),
        },
    )


@login_not_required
@require_GET
def search(request: HttpRequest) -> JsonResponse:
    """``?q=cleaning`` → ``{"results": [{"code": ..., "description": ...}]}``,
    at most 20, best first."""
    codes = selectors.search(
        request.GET.get("q", ""), limit=selectors.SEARCH_LIMIT, buyer_id=_council_of(request)
    )
    return JsonResponse(
        {"results": [{"code": c.code, "description": c.description} for c in codes]}
    )
