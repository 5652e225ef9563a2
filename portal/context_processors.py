from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal import navigation, notifications, two_factor


def service(request: HttpRequest) -> dict[str, Any]:
    """The service's name, the council shown in the header, and the role's navigation."""
    user = request.user
    council = settings.SERVICE_OWNER
    if user.is_authenticated and user.buyer is not None:
        council = user.buyer.name
    # Before the second step of signing in, no menu: its pages are out of reach.
    reachable = user if user.is_authenticated and two_factor.is_verified(request) else None
    items = navigation.items_for(reachable) if reachable is not None else []
    unread = notifications.unread_count(reachable) if reachable is not None else 0
    current = request.path
    nav_items = []
    for item in items:
        url = item.url  # reversed once an item, on every page
        nav_items.append(
            {
                "label": item.label,
                "url": url,
                "active": current == url or (url != "/" and current.startswith(url)),
                "badge": unread if item.url_name == "inbox" else 0,
            }
        )
    return {
        "service_name": settings.SERVICE_NAME,
        "council_name": council,
        "support_email": settings.SUPPORT_EMAIL,
        "unread_count": unread,
        "nav_items": nav_items,
    }
