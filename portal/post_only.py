"""Addresses only a button uses (they take POST only), met with a GET.

A GET reaches them by a bookmark, a reload after a refusal, or signing in
again after a session ended while a form was being sent (the sign-in's
``next`` is then the form's address). Django answers an empty 405 and the
browser shows its own "HTTP ERROR 405". Instead:

* signing in never sends anyone to such an address (``page_for``), but to
  the nearest page above it that answers a GET;
* a GET or HEAD that would get an empty 405 gets a page of the portal's,
  status 405 (``Allow`` kept), saying the address belongs to a button and
  linking to that nearest page (``PostOnlyMiddleware``).

The nearest page is found from the address alone (its path, shortened a
part at a time, until Django's URL resolver finds a view that answers
GET), so the page names nothing the address does not already say. Apps may
also register a guard by URL namespace (``register_guard``): it raises
``Http404`` when the user may not see what the address belongs to, who then
gets the 404 they would get from the page itself (``tenders`` checks the
opportunity of ``/opportunities/<pk>/…``). The core imports no app.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, ResolverMatch, resolve, reverse

Guard = Callable[[HttpRequest, ResolverMatch], None]

_GUARDS: dict[str, Guard] = {}


def register_guard(namespace: str, guard: Guard) -> None:
    """``guard(request, match)`` raises ``Http404`` (or ``PermissionDenied``)
    when the user may not see what an address of ``namespace`` belongs to."""
    _GUARDS[namespace] = guard


def view_methods(view: Any) -> frozenset[str] | None:
    """The HTTP methods ``view`` answers, or None when it does not say.

    A class-based view says so by its handlers; a function view by Django's
    ``require_http_methods`` (``require_POST``, ``require_GET``…), read from
    the decorator's closure through each ``functools.wraps`` layer.
    ``tests/test_post_only.py`` checks this reading against the answers the
    views really give."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return frozenset(m.upper() for m in view_class.http_method_names if hasattr(view_class, m))
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            return frozenset(inspect.getclosurevars(view).nonlocals["request_method_list"])
        view = getattr(view, "__wrapped__", None)
    return None


def answers_get(match: ResolverMatch) -> bool:
    methods = view_methods(match.func)
    return methods is None or "GET" in methods


def nearest_page(path: str) -> str:
    """The nearest address above ``path`` whose view answers GET
    (``/opportunities/41/questions/2/answer/`` → ``/opportunities/41/``), else
    the home page."""
    parts = [p for p in path.split("/") if p]
    while parts:
        parts.pop()
        candidate = "/" + "".join(f"{p}/" for p in parts)
        try:
            match = resolve(candidate)
        except Resolver404:
            continue
        if answers_get(match):
            return candidate
    return reverse("home")


def page_for(url: str) -> str:
    """``url`` (an already checked ``next``), or the nearest page above it when
    its view does not answer GET. An address nothing resolves stays as it is:
    its 404 page says so."""
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        return url
    return url if answers_get(match) else nearest_page(path)


class PostOnlyMiddleware:
    """The portal's page instead of an empty 405 for a GET (or HEAD) to an
    address whose view does not answer GET. Inside the middleware that add
    headers (security, CSP, frames), so its page gets them too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (
            response.status_code != 405
            or request.method not in {"GET", "HEAD"}
            or match is None
            or getattr(response, "streaming", False)
            or response.content
            # HEAD to a view that answers GET (``require_GET`` refuses HEAD): no button's
            or (request.method == "HEAD" and answers_get(match))
        ):
            return response
        for namespace in match.namespaces[:1]:
            if (guard := _GUARDS.get(namespace)) is not None:
                guard(request, match)  # Http404: the 404 page, as from the page itself
        page = render(
            request,
            "405.html",
            {"parent_url": nearest_page(request.path_info)},
            status=405,
        )
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page
