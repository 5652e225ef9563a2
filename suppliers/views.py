"""A supplier's own pages: register, confirm email, profile, addresses, colleagues.

Every page under /organisation/ works on the signed-in person's own
organisation; objects named in a URL (an address, a colleague) are looked up
within it, so another organisation's gets 404.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import lockout
from portal.http import SignedInRequest
from portal.models import User
from suppliers import export, services, tokens
from suppliers.forms import (
    InviteForm,
    JoinForm,
    OrganisationForm,
    RegistrationForm,
    RoleForm,
    SiteForm,
)
from suppliers.models import SupplierOrganisation, SupplierSite
from suppliers.selectors import (
    local_sentences,
    local_standing,
    profile_as_asked,
    statuses_by_council,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

BACKEND = "django.contrib.auth.backends.ModelBackend"


class LockFields(TypedDict):
    """What the people page shows of a colleague besides: until when they are locked out."""

    locked_until: datetime.datetime | None


if TYPE_CHECKING:
    LockablePerson = WithAnnotations[User, LockFields]


def _own_supplier(request: SignedInRequest) -> SupplierOrganisation:
    supplier = request.user.supplier if request.user.is_supplier_user else None
    if supplier is None:
        raise Http404
    return supplier


def _own_supplier_as_admin(request: SignedInRequest) -> SupplierOrganisation:
    supplier = _own_supplier(request)
    if not request.user.is_supplier_admin:
        raise PermissionDenied("Only your organisation's administrators can do this.")
    return supplier


# --- Registration ----------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        registration = services.supplier_register(
            legal_name=data["legal_name"],
            trading_name=data["trading_name"],
            companies_house_number=data["companies_house_number"],
            charity_number=data["charity_number"],
            is_sme=data["is_sme"],
            is_vcse=data["is_vcse"],
            phone=data["phone"],
            website=data["website"],
            site=form.site_spec(),
            categories=data["categories"],
            full_name=data["full_name"],
            email=data["email"],
            password=data["password1"],
        )
        # The same answer whether or not the address already had an account.
        request.session["registered_email"] = data["email"]
        # "Send the link again" acts only on an account this registration made:
        # never on one someone else made earlier with the same address.
        request.session["registered_user_id"] = (
            registration.user.pk if registration.user is not None else None
        )
        return redirect("register_check_email")
    return render(request, "suppliers/register.html", {"form": form})


@login_not_required
@require_GET
def register_check_email(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "suppliers/register_check_email.html",
        {
            "email": request.session.get("registered_email"),
            "sent_again": request.session.pop("link_sent_again", False),
        },
    )


@login_not_required
@require_POST
def register_resend(request: HttpRequest) -> HttpResponse:
    """ "Send the link again" on the check-your-email page: to the address
    registered in this browser's session only (the account that registration
    made, if it made one), and the same answer whether or not anything was
    sent (see ``services.verification_resend``)."""
    if not request.session.get("registered_email"):
        return redirect("register")
    user_id = request.session.get("registered_user_id")
    if user_id is not None:
        services.verification_resend(user_id=user_id)
    request.session["link_sent_again"] = True
    return redirect("register_check_email")


@login_not_required
@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: mail scanners that follow links must
    not use them up."""
    try:
        user = tokens.read_token(token, tokens.VERIFY_EMAIL)
    except tokens.LinkProblem as problem:
        return _link_problem(request, problem, token)
    if request.method == "POST":
        user = services.email_verify(user=user)
        login(request, user, backend=BACKEND)
        messages.success(
            request,
            "Your email address is confirmed. A council officer will now check your details.",
        )
        return redirect("home")
    return render(request, "suppliers/verify_email.html", {"person": user})


@login_not_required
@require_POST
def resend_verification(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tokens.read_token(token, tokens.VERIFY_EMAIL)
    except tokens.LinkProblem as problem:
        # Only an account's own link may be sent again (``can_resend`` needs the account).
        if problem.user is None or not problem.can_resend:
            return _link_problem(request, problem, token)
        services.send_verification(user=problem.user)
        request.session["registered_email"] = problem.user.email
        return redirect("register_check_email")
    return redirect("verify_email", token=token)


def _link_problem(request: HttpRequest, problem: tokens.LinkProblem, token: str) -> HttpResponse:
    return render(
        request,
        "suppliers/link_problem.html",
        {
            "problem": problem,
            "token": token,
            "can_resend": problem.can_resend,
        },
        status=410 if problem.user else 404,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = tokens.read_token(token, tokens.JOIN)
    except tokens.LinkProblem as problem:
        return _link_problem(request, problem, token)
    form = JoinForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.colleague_join(user=user, password=form.cleaned_data["password1"])
        except services.PeopleRefused as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user, backend=BACKEND)
            messages.success(request, f"Welcome to {user.supplier} on Local Tenders.")
            return redirect("home")
    return render(request, "suppliers/join.html", {"form": form, "person": user})


# --- The organisation's own profile ------------------------------------------------


@require_GET
def organisation(request: SignedInRequest) -> HttpResponse:
    supplier = _own_supplier(request)
    return render(
        request,
        "suppliers/organisation.html",
        {
            "supplier": supplier,
            "sites": list(supplier.sites.all()),
            "categories": list(supplier.categories.all()),
            "local_to": local_sentences(local_standing(supplier)),
            "councils": statuses_by_council(supplier),
            # Changes asked for that wait for an officer's review (ADR 12).
            "waiting": services.pending_changes(supplier),
        },
    )


SENT_FOR_REVIEW = (
    "Sent for review. A council officer checks changes to {what} before they count; until "
    "then your verified details stand, for invitations and for whether you are local."
)


@require_http_methods(["GET", "POST"])
def organisation_edit(request: SignedInRequest) -> HttpResponse:
    supplier = _own_supplier_as_admin(request)
    # The form starts from what is waiting for review, so saving it again keeps it.
    initial = profile_as_asked(
        supplier, [n for n in OrganisationForm.base_fields if n != "categories"]
    )
    form = OrganisationForm(request.POST or None, supplier=supplier, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        categories = data.pop("categories")
        outcome = services.supplier_update(
            supplier=supplier, by=request.user, categories=categories, **data
        )
        if outcome.pending:
            what = " and ".join(change.get_kind_display().lower() for change in outcome.pending)
            if outcome.applied:
                messages.success(request, "Your contact details have been saved.")
            messages.info(request, SENT_FOR_REVIEW.format(what=what))
        else:
            messages.success(request, "Your organisation's details have been saved.")
        return redirect("organisation")
    return render(request, "suppliers/organisation_edit.html", {"form": form})


def _locality_message(
    request: HttpRequest, supplier: SupplierOrganisation, outcome: services.ProfileOutcome
) -> None:
    if outcome.pending:
        messages.info(request, SENT_FOR_REVIEW.format(what="addresses"))
        return
    # Where it stands by all its addresses, not only this one; local only
    # where the council has approved it.
    messages.success(
        request, " ".join(["Address saved.", *local_sentences(local_standing(supplier))])
    )


@require_http_methods(["GET", "POST"])
def site_add(request: SignedInRequest) -> HttpResponse:
    supplier = _own_supplier_as_admin(request)
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = services.site_add(supplier=supplier, spec=form.site_spec(), by=request.user)
        _locality_message(request, supplier, outcome)
        return redirect("organisation")
    return render(request, "suppliers/site_form.html", {"form": form, "adding": True})


@require_http_methods(["GET", "POST"])
def site_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    supplier = _own_supplier_as_admin(request)
    site = get_object_or_404(SupplierSite, pk=pk, supplier=supplier)
    initial = {
        f: getattr(site, f) for f in ["address_line_1", "address_line_2", "town", "postcode"]
    }
    form = SiteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        outcome = services.site_update(site=site, spec=form.site_spec(), by=request.user)
        _locality_message(request, supplier, outcome)
        return redirect("organisation")
    return render(request, "suppliers/site_form.html", {"form": form, "site": site})


@require_http_methods(["GET", "POST"])
def site_remove(request: SignedInRequest, pk: int) -> HttpResponse:
    supplier = _own_supplier_as_admin(request)
    site = get_object_or_404(SupplierSite, pk=pk, supplier=supplier)
    error = None
    if request.method == "POST":
        try:
            outcome = services.site_remove(site=site, by=request.user)
        except services.ProfileRefused as exc:
            error = str(exc)
        else:
            if outcome.pending:
                messages.info(request, SENT_FOR_REVIEW.format(what="addresses"))
            else:
                messages.success(request, f"Removed {site}.")
            return redirect("organisation")
    return render(request, "suppliers/site_remove.html", {"site": site, "error": error})


@require_GET
def organisation_export(request: SignedInRequest) -> HttpResponse:
    supplier = _own_supplier(request)
    data = export.organisation_data(supplier)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="organisation-{supplier.pk}.json"'
    return response


# --- Colleagues ----------------------------------------------------------------------


@require_GET
def people(request: SignedInRequest) -> HttpResponse:
    supplier = _own_supplier(request)
    # Each with ``locked_until`` (set below), for the page.
    people = cast("list[LockablePerson]", list(supplier.users.order_by("-is_active", "full_name")))
    locked = lockout.locked_accounts(people)
    for person in people:
        person.locked_until = locked.get(person.pk)
    return render(request, "suppliers/people.html", {"supplier": supplier, "people": people})


@require_http_methods(["GET", "POST"])
def person_invite(request: SignedInRequest) -> HttpResponse:
    supplier = _own_supplier_as_admin(request)
    form = InviteForm(request.POST or None, supplier=supplier)
    if request.method == "POST" and form.is_valid():
        try:
            services.colleague_invite(supplier=supplier, by=request.user, **form.cleaned_data)
        except services.PeopleRefused as exc:
            form.add_error("email", str(exc))
        else:
            # The same words whether or not the address has an account elsewhere.
            email = form.cleaned_data["email"]
            messages.success(request, f"We have emailed an invitation to {email}.")
            return redirect("people")
    return render(request, "suppliers/person_invite.html", {"form": form})


def _colleague(request: SignedInRequest, pk: int) -> tuple[SupplierOrganisation, User]:
    supplier = _own_supplier_as_admin(request)
    return supplier, get_object_or_404(User, pk=pk, supplier=supplier)


@require_http_methods(["GET", "POST"])
def person_role(request: SignedInRequest, pk: int) -> HttpResponse:
    _supplier, person = _colleague(request, pk)
    form = RoleForm(request.POST or None, initial={"supplier_role": person.supplier_role})
    if request.method == "POST" and form.is_valid():
        try:
            services.colleague_set_role(
                user=person, supplier_role=form.cleaned_data["supplier_role"], by=request.user
            )
        except services.PeopleRefused as exc:
            form.add_error("supplier_role", str(exc))
        else:
            messages.success(request, f"{person.full_name}'s role has been changed.")
            return redirect("people")
    return render(request, "suppliers/person_role.html", {"form": form, "person": person})


@require_http_methods(["GET", "POST"])
def person_remove(request: SignedInRequest, pk: int) -> HttpResponse:
    _supplier, person = _colleague(request, pk)
    error = None
    if request.method == "POST":
        try:
            services.colleague_remove(user=person, by=request.user)
        except services.PeopleRefused as exc:
            error = str(exc)
        else:
            messages.success(request, f"{person.full_name} can no longer sign in.")
            return redirect("people")
    return render(request, "suppliers/person_remove.html", {"person": person, "error": error})


@require_POST
def person_unlock(request: SignedInRequest, pk: int) -> HttpResponse:
    """Lift a colleague's sign-in lock (after too many wrong passwords)."""
    _supplier, person = _colleague(request, pk)
    if services.colleague_unlock(user=person, by=request.user):
        messages.success(request, f"{person.full_name} can sign in again.")
    else:
        messages.info(request, f"{person.full_name} was not locked out.")
    return redirect("people")
