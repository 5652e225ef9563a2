"""The permission matrix (issue 8): every URL pattern of the project, asked
for by every persona, with the parameters filled with ANOTHER organisation's
objects, answers as designed, and never shows that organisation's data.

* ``MATRIX`` holds the expected answer of every pattern (keyed by its name,
  or its route when unnamed) for every persona; the six pages of each model
  in Django admin follow from ``ADMIN_MODELS``, one line a model.
  ``test_every_url_pattern_has_an_expectation`` walks the URLconf (included
  ones and Django admin's too) and fails for a pattern that has no line: a
  new page cannot be forgotten.
* Two organisations of each kind, each with its own world: council A (the
  demo council) and council B, supplier A (Aire Valley Cleaning, local to A)
  and supplier B (Leeds Office Supplies, local to B). In each world the
  council published an opportunity with a document, the supplier asked a
  question and bid (a file, a receipt in its inbox), two officers opened the
  box, and a past award is on the register; the supplier has a colleague
  and an address of its own. Every marker (titles, names, prices, files) is
  found nowhere else.

The columns (a persona, and whose objects fill the URL):

* ``anon`` (world A), ``supA`` (B), ``supB`` (A), ``offA`` (B), ``offB`` (A),
  ``audA`` (B), ``admA`` (B: the portal-wide superuser of council A),
  ``cadm`` (B: an administrator of council A who is not a superuser).
* ``supA* offA* audA* admA*``: A's own people with A's own objects (for
  patterns with parameters): proves the parameters are real, so that a 404
  above says "not yours", not "no such thing".
* ``supA~ offA~ audA~``: A's own first object with B's objects nested in it
  (``/opportunities/<A's>/bids/<B's>/``), for patterns with two or more.

Answers: ``200 403 404 405 410``, ``login`` (302 to a sign-in page), ``302``
(any other redirect), ``-`` (not asked). GET everywhere; POST with an empty
body for views that take only POST (``POST_MATRIX``; the persona's own
objects are never posted to, so nothing of theirs changes). Every 405 to a
GET is the portal's page saying the address belongs to a button, never an
empty answer.

Every body (page, CSV, JSON, file) is scanned for the other organisation's
markers, whatever the status; only Django admin's pages for the portal-wide
superuser are left out, as Django admin is the whole portal's (ADR 8,
``portal.services.user_create``) and shows every council by design.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from cpv.models import CpvSynonym
from devdata import demo
from ledger.models import Payee
from portal import lockout
from portal.models import AuditEvent, BuyerOrganisation, InboxMessage, Notification, User
from portal.services import user_create
from suppliers import tokens
from suppliers.models import SupplierChange, SupplierOrganisation, SupplierSite, SupplierStatus
from suppliers.selectors import status_of
from suppliers.services import (
    SiteSpec,
    site_add,
    supplier_change_decide,
    supplier_set_status,
    supplier_update,
)
from tenders.models import (
    Answer,
    Bid,
    BidFile,
    Challenge,
    Clarification,
    Opportunity,
    OpportunityDocument,
    PriceRate,
    PricingLine,
    ProcurementPolicy,
    Question,
    QuestionKind,
    RouteCheck,
    StatutoryDate,
    StatutoryFigure,
)
from tenders.services import (
    DECLARATIONS,
    bid_add_file,
    bid_save_draft,
    bid_start,
    bid_submit,
    box_open,
    clarification_ask,
    declaration_make,
    document_add,
    invite,
    opportunity_publish,
    panel_set,
)
from tenders.views.officer import award_steps
from tests.history_helpers import awarded, council_with_policy
from tests.ledger_helpers import make_import, pay
from tests.tenders_helpers import make_opportunity
from tests.two_factor_helpers import verified_force_login
from transparency.flags import KINDS, flag_report

FOREIGN = ("anon", "supA", "supB", "offA", "offB", "audA", "admA", "cadm")
OWN = ("supA*", "offA*", "audA*", "admA*")
MIXED = ("supA~", "offA~", "audA~")
COLUMNS = FOREIGN + OWN + MIXED

# --- What each pattern answers ------------------------------------------------------------
#
# Columns: anon supA supB offA offB audA admA cadm | supA* offA* audA* admA* | supA~ offA~ audA~
MATRIX: dict[str, str] = {
    # portal.urls: every role's own pages
    "home": "login 200 200 200 200 200 200 200",
    "account": "login 200 200 200 200 200 200 200",
    "password_change": "login 200 200 200 200 200 200 200",
    "notification_preferences": "login 200 200 200 200 200 200 200",
    "inbox": "login 200 200 200 200 200 200 200",
    # the world's supplier's bid receipt in its inbox
    "inbox_message": "login 404 404 404 404 404 404 404 | 200 404 404 404",
    "inbox_mark_all_read": "login 405 405 405 405 405 405 405",
    "login": "200 302 302 302 302 302 302 302",
    # a genuine unlock link of another organisation's person, with no lock to lift
    "unlock_account": "410 410 410 410 410 410 410 410 | 410 410 410 410",
    # suppliers have no second step, so no recovery codes: back to their account
    "recovery_codes_new": "login 302 302 200 200 200 200 200",
    # every session here has passed the second step (or needs none)
    "two_factor_verify": "login 302 302 302 302 302 302 302",
    "two_factor_setup": "login 302 302 302 302 302 302 302",
    "two_factor_recovery": "login 302 302 302 302 302 302 302",
    "logout": "login 405 405 405 405 405 405 405",
    "password_reset": "200 200 200 200 200 200 200 200",
    "password_reset_done": "200 200 200 200 200 200 200 200",
    # another organisation's person, with a token that is not theirs: "invalid link"
    "password_reset_confirm": "200 200 200 200 200 200 200 200 | 200 200 200 200",
    "password_reset_complete": "200 200 200 200 200 200 200 200",
    "healthz": "200 200 200 200 200 200 200 200",
    # cpv.urls: public
    "cpv:find": "200 200 200 200 200 200 200 200",
    "cpv:search": "200 200 200 200 200 200 200 200",
    # suppliers.officer_urls: every council sees every supplier; suppliers never
    "supplier_directory": "login 404 404 200 200 200 200 200",
    "supplier_detail": "login 404 404 200 200 200 200 200 | 404 200 200 200",
    "supplier_status": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    # the changes a council's officers may review (ADR 12)
    "supplier_changes": "login 404 404 200 200 200 200 200",
    "supplier_change_decide": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    # several suppliers approved for one reason: POST only
    "supplier_bulk_approve": "login 405 405 405 405 405 405 405",
    "locality": "login 404 404 200 200 200 200 200",
    # tenders.views.policy: the council's policy; only its administrators add one
    "tenders:policy": "login 404 404 200 200 200 200 200",
    "tenders:policy_new": "login 404 404 403 403 403 200 200",
    "tenders:full_tender_register": "login 404 404 200 200 200 200 200",
    "tenders:full_tender_register_csv": "login 404 404 200 200 200 200 200",
    # transparency.urls: the council's auditors and administrators
    "transparency:register": "login 403 403 403 403 200 200 200",
    "transparency:register_csv": "login 403 403 403 403 200 200 200",
    "transparency:invitations": "login 403 403 403 403 200 200 200",
    "transparency:invitations_csv": "login 403 403 403 403 200 200 200",
    "transparency:dashboard": "login 403 403 403 403 200 200 200",
    "transparency:flags": "login 403 403 403 403 200 200 200",
    "transparency:opportunity_history": ("login 403 403 403 403 404 404 404 | 403 403 200 200"),
    # a supplier's dealings with the auditor's own council only
    "transparency:supplier_history": "login 403 403 403 403 200 200 200 | 403 403 200 200",
    "transparency:opportunity_ocds": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    # the council's package of a span of days (export_ocds's uri): its own staff only
    "transparency:council_ocds": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    # the audit overview and the CSVs of the flags and the local-spend figures (issue 16)
    "transparency:index": "login 403 403 403 403 200 200 200",
    "transparency:dashboard_csv": "login 403 403 403 403 200 200 200",
    "transparency:flags_csv": "login 403 403 403 403 200 200 200",
    # only the council's auditors review its flags; another council's flag is not found
    "transparency:flag_review": "login 403 403 403 403 404 403 403 | 403 403 200 403",
    # issue 18: figures. The council's officers and auditors read its figures
    # (its administrators, who decide what it shares, the network page too)
    "ledger:dashboard": "login 404 404 200 200 200 404 404",
    "ledger:dashboard_csv": "login 404 404 200 200 200 404 404",
    "ledger:leakage": "login 404 404 200 200 200 404 404",
    "ledger:network": "login 404 404 200 200 200 200 200",
    "ledger:leak_draft": "login 405 405 405 405 405 405 405",
    "ledger:category_mappings": "login 405 405 405 405 405 405 405",
    "ledger:network_share": "login 405 405 405 405 405 405 405",
    # suppliers.urls: registering (public), then a supplier's own pages
    "register": "200 302 302 302 302 302 302 302",
    "register_check_email": "200 200 200 200 200 200 200 200",
    # a genuine link of another organisation's person, already used
    "verify_email": "410 410 410 410 410 410 410 410 | 410 410 410 410",
    "resend_verification": "405 405 405 405 405 405 405 405 | 405 405 405 405",
    # "send the link again" on the check-your-email page: POST only
    "register_resend": "405 405 405 405 405 405 405 405",
    "join": "410 410 410 410 410 410 410 410 | 410 410 410 410",
    "organisation": "login 200 200 404 404 404 404 404",
    "organisation_edit": "login 200 200 404 404 404 404 404",
    "organisation_export": "login 200 200 404 404 404 404 404",
    "site_add": "login 200 200 404 404 404 404 404",
    "site_edit": "login 404 404 404 404 404 404 404 | 200 404 404 404",
    "site_remove": "login 404 404 404 404 404 404 404 | 200 404 404 404",
    "people": "login 200 200 404 404 404 404 404",
    "person_invite": "login 200 200 404 404 404 404 404",
    "person_role": "login 404 404 404 404 404 404 404 | 200 404 404 404",
    "person_remove": "login 404 404 404 404 404 404 404 | 200 404 404 404",
    "person_unlock": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    # tenders.views.supplier: the invited supplier's own. A GET to a button's
    # address (POST only, here and below): the portal's 405 page for whoever may
    # see the opportunity, the 404 of its page for anyone else (portal.post_only)
    "tenders:opportunity_ask": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:opportunity_intention": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:supplier_bid": ("login 404 404 404 404 404 404 404 | 200 404 404 404 | 404 404 404"),
    "tenders:supplier_bid_withdraw": (
        "login 404 404 404 404 404 404 404 | 200 404 404 404 | 404 404 404"
    ),
    "tenders:supplier_bid_file": (
        "login 404 404 404 404 404 404 404 | 200 404 404 404 | 404 404 404"
    ),
    # asks before removing a draft's file; the world's bids are closed: back to the bid
    "tenders:supplier_bid_file_remove": (
        "login 404 404 404 404 404 404 404 | 302 404 404 404 | 404 404 404"
    ),
    "tenders:supplier_bid_receipt": (
        "login 404 404 404 404 404 404 404 | 200 404 404 404 | 404 404 404"
    ),
    "tenders:supplier_bid_receipt_text": (
        "login 404 404 404 404 404 404 404 | 200 404 404 404 | 404 404 404"
    ),
    # the bidder's outcome letters (issue 16): its own organisation only
    "tenders:supplier_outcome": "login 404 404 404 404 404 404 404 | 200 404 404 404",
    # issue 17: answers (check before submitting): the bid's own supplier only
    "tenders:supplier_bid_check": (
        "login 404 404 404 404 404 404 404 | 200 404 404 404 | 404 404 404"
    ),
    # tenders.views.officer: officers write; the council's others read (403)
    "tenders:opportunity_create": "login 404 404 200 200 403 403 403",
    # the world's opportunity is no longer a draft: back to its page
    "tenders:opportunity_edit": "login 404 404 404 404 404 404 404 | 404 302 403 403",
    "tenders:opportunity_lot_builder": "login 404 404 404 404 404 404 404 | 404 302 403 403",
    "tenders:opportunity_invite": "login 404 404 404 404 404 404 404 | 404 200 403 403",
    "tenders:opportunity_invite_all_local": ("login 404 404 404 404 404 404 404 | 405 405 405 405"),
    # withdrawing a draft's invitation: POST only (the world's is published: refused)
    "tenders:opportunity_invitation_withdraw": (
        "login 404 404 404 404 404 404 404 | 405 405 405 405"
    ),
    "tenders:opportunity_publish": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:opportunity_document_add": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:clarification_answer": (
        "login 404 404 404 404 404 404 404 | 405 405 405 405 | 405 405 405"
    ),
    "tenders:opportunity_override": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:opportunity_cancel": "login 404 404 404 404 404 404 404 | 404 200 403 403",
    "tenders:opportunity_extend": "login 404 404 404 404 404 404 404 | 404 200 403 403",
    "tenders:opportunity_correct": "login 404 404 404 404 404 404 404 | 404 200 403 403",
    "tenders:opportunity_change_value": "login 404 404 404 404 404 404 404 | 404 200 403 403",
    # tenders.views.officer.bids: the buyer's officers and auditors, once opened
    "tenders:box_open": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:lot_evaluation": ("login 404 404 404 404 404 404 404 | 404 200 200 404 | 404 404 404"),
    "tenders:lot_award": "login 404 404 404 404 404 404 404 | 404 200 200 404 | 404 404 404",
    # the council's copy of an awarded lot's outcome letters (the world's past award)
    "tenders:lot_letters": "login 404 404 404 404 404 404 404 | 404 200 200 404 | 404 404 404",
    "tenders:bid_detail": "login 404 404 404 404 404 404 404 | 404 200 200 404 | 404 404 404",
    "tenders:bid_score": "login 404 404 404 404 404 404 404 | 405 405 405 405 | 405 405 405",
    "tenders:bid_exclude": "login 404 404 404 404 404 404 404 | 405 405 405 405 | 405 405 405",
    "tenders:bid_file": "login 404 404 404 404 404 404 404 | 404 200 200 404 | 404 404 404",
    # issue 17: the questionnaire. The council's staff read it; its officers change it
    # while the opportunity is a draft or open (the world's is evaluated: back to it)
    "tenders:questionnaire": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    "tenders:questionnaire_copy": "login 404 404 404 404 404 404 404 | 405 405 405 405",
    "tenders:questionnaire_question_add": "login 404 404 404 404 404 404 404 | 404 302 403 403",
    "tenders:questionnaire_question_edit": (
        "login 404 404 404 404 404 404 404 | 404 302 403 403 | 404 404 403"
    ),
    "tenders:questionnaire_question_remove": (
        "login 404 404 404 404 404 404 404 | 404 302 403 403 | 404 404 403"
    ),
    "tenders:questionnaire_question_move": (
        "login 404 404 404 404 404 404 404 | 405 405 405 405 | 405 405 405"
    ),
    "tenders:questionnaire_line_add": "login 404 404 404 404 404 404 404 | 404 302 403 403",
    "tenders:questionnaire_line_edit": (
        "login 404 404 404 404 404 404 404 | 404 302 403 403 | 404 404 403"
    ),
    "tenders:questionnaire_line_remove": (
        "login 404 404 404 404 404 404 404 | 404 302 403 403 | 404 404 403"
    ),
    # issue 17: award steps and report (tenders.views.officer.award_steps): the
    # buyer's officers and auditors once opened; auditors read, 403 on acting
    "tenders:lot_intention": "login 404 404 404 404 404 404 404 | 404 200 200 404 | 404 404 404",
    "tenders:challenges": "login 404 404 404 404 404 404 404 | 404 200 200 404",
    "tenders:challenge_resolve": (
        "login 404 404 404 404 404 404 404 | 404 200 403 404 | 404 404 404"
    ),
    "tenders:evaluation_report": "login 404 404 404 404 404 404 404 | 404 200 200 404",
    "tenders:evaluation_report_pdf": "login 404 404 404 404 404 404 404 | 404 200 200 404",
    # issue 17: panel. The council's officers name the panel, its auditors read
    # its status; the declaration, marking and moderation pages are the panel's
    # members' only (the council's others: 403). The world's first officer
    # evaluates and moderates; moderation is not open yet (back to its list).
    "tenders:panel": "login 404 404 404 404 404 404 404 | 404 200 200 404",
    "tenders:panel_declaration": "login 404 404 404 404 404 404 404 | 404 200 403 404",
    "tenders:marking": "login 404 404 404 404 404 404 404 | 404 200 403 404",
    "tenders:marking_bid": "login 404 404 404 404 404 404 404 | 404 200 403 404 | 404 404 403",
    "tenders:marking_finish": "login 404 404 404 404 404 404 404 | 404 200 403 404",
    "tenders:moderation": "login 404 404 404 404 404 404 404 | 404 200 403 404",
    "tenders:moderation_bid": ("login 404 404 404 404 404 404 404 | 404 302 403 404 | 404 404 403"),
    # issue 18: payees. The council's staff read its payees; only its officers
    # decide (POST only); suppliers and other councils: not found
    "ledger:payees": "login 404 404 200 200 200 200 200",
    "ledger:payee": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    "ledger:payee_confirm": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    "ledger:payee_reject": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    "ledger:payee_unmatch": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    "ledger:payee_invite": "login 405 405 405 405 405 405 405 | 405 405 405 405",
    # tenders.views.shared: shared by the council and its invited suppliers
    "tenders:opportunity_list": "login 200 200 200 200 200 200 200",
    "tenders:opportunity_detail": "login 404 404 404 404 404 404 404 | 200 200 200 200",
    "tenders:opportunity_document": (
        "login 404 404 404 404 404 404 404 | 200 200 200 200 | 404 404 404"
    ),
    # the work the threshold rule adds up with it: the council's own people only
    "tenders:opportunity_work_added_up": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    # the deadlines as an .ics file: exactly as the opportunity's page
    "tenders:opportunity_calendar": "login 404 404 404 404 404 404 404 | 200 200 200 200",
    # Django admin's site: administrators (is_staff) only; others to its sign-in
    "admin:index": "login login login login login login 200 200",
    "admin:login": "200 200 200 200 200 200 302 302",
    "admin:logout": "login 302 302 302 302 302 405 405",
    "admin:password_change": "login login login login login login 200 200",
    "admin:password_change_done": "login login login login login login 200 200",
    "admin:autocomplete": "login login login login login login 403 403",
    "admin:jsi18n": "login login login login login login 200 200",
    # an opportunity has no public page to send anyone to
    "admin:view_on_site": "login login login login login login 404 404",
    # an administrator who is not a superuser has no model of tenders' to see
    "admin:app_list": "login login login login login login 200 404",
    # unknown admin addresses: non-staff are sent to sign in, as for real ones
    "admin/(?P<url>.*)$": "login login login login login login 404 404",
    "admin:auth_user_password_change": "login login login login login login 200 403",
    # OTP_ADMIN_HIDE_SENSITIVE_DATA: never a secret, not even to a superuser
    "admin:otp_totp_totpdevice_config": "login login login login login login 403 403",
    "admin:otp_totp_totpdevice_qrcode": "login login login login login login 403 403",
    # issue 18: imports (ledger.views.imports). The council's staff read; its officers act
    "ledger:imports": "login 404 404 200 200 200 200 200",
    "ledger:import_new": "login 404 404 200 200 403 403 403",
    "ledger:import_columns": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    "ledger:import_progress": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    "ledger:import_refused": "login 404 404 404 404 404 404 404 | 404 200 200 200",
    "ledger:import_withdraw": "login 404 404 404 404 404 404 404 | 404 200 403 403",
}

# POST with an empty body, for the views that take only POST.
# Columns: anon supA supB offA offB audA admA cadm | (never the own objects) | supA~ offA~ audA~
POST_MATRIX: dict[str, str] = {
    "inbox_mark_all_read": "login 302 302 302 302 302 302 302",
    # signed out, and sent to sign in again
    "logout": "login login login login login login login login",
    "admin:logout": "login 302 302 302 302 302 login login",
    "resend_verification": "410 410 410 410 410 410 410 410",
    # no address registered in this session: back to registering, nothing sent
    "register_resend": "302 302 302 302 302 302 302 302",
    "person_unlock": "login 404 404 404 404 404 404 404",
    # any council's officer verifies suppliers; the empty form is explained
    "supplier_status": "login 404 404 200 200 403 403 403",
    # council A relies on B's supplier (it approved it), so its officer sees the change
    # (the empty form is explained); B never decided on A's supplier: not its business
    "supplier_change_decide": "login 404 404 200 404 403 403 403",
    # any council's officer approves for its own council; the empty form is explained
    "supplier_bulk_approve": "login 404 404 200 200 403 403 403",
    # issue 18: figures. Officers act (the empty form is explained), auditors 403;
    # the network switch is the administrators' (officers and auditors 403)
    "ledger:leak_draft": "login 404 404 200 200 403 404 404",
    "ledger:category_mappings": "login 404 404 200 200 403 404 404",
    "ledger:network_share": "login 404 404 403 403 403 200 200",
    "tenders:opportunity_ask": "login 404 404 404 404 404 404 404",
    "tenders:opportunity_intention": "login 404 404 404 404 404 404 404",
    "tenders:opportunity_invite_all_local": "login 404 404 404 404 404 404 404",
    "tenders:opportunity_invitation_withdraw": "login 404 404 404 404 404 404 404",
    "tenders:opportunity_publish": "login 404 404 404 404 404 404 404",
    "tenders:opportunity_document_add": "login 404 404 404 404 404 404 404",
    # the council's auditor is refused (403) before anything nested is looked up
    "tenders:clarification_answer": "login 404 404 404 404 404 404 404 | - | 404 404 403",
    "tenders:opportunity_override": "login 404 404 404 404 404 404 404",
    "tenders:box_open": "login 404 404 404 404 404 404 404",
    "tenders:bid_score": "login 404 404 404 404 404 404 404 | - | 404 404 403",
    "tenders:bid_exclude": "login 404 404 404 404 404 404 404 | - | 404 404 403",
    # issue 17: the questionnaire; the council's auditor is refused before the nested lookup
    "tenders:questionnaire_copy": "login 404 404 404 404 404 404 404",
    "tenders:questionnaire_question_move": "login 404 404 404 404 404 404 404 | - | 404 404 403",
    # issue 18: payees (another council's payee: not found, whoever asks)
    "ledger:payee_confirm": "login 404 404 404 404 404 404 404",
    "ledger:payee_reject": "login 404 404 404 404 404 404 404",
    "ledger:payee_unmatch": "login 404 404 404 404 404 404 404",
    "ledger:payee_invite": "login 404 404 404 404 404 404 404",
}

# Django admin's pages of each registered model, from what a superuser may do
# there (``view`` always). A model registered later must be added here.
ADMIN_MODELS: dict[str, str] = {
    "auth_group": "view add change delete",
    # never deleted here: bids and their records hang from them (portal.admin.KeptAdmin)
    "portal_user": "view add change",
    "portal_buyerorganisation": "view add change",
    "portal_auditevent": "view",
    "portal_notification": "view",
    # reset only: deleting a device is audited (portal.admin.ResetOnlyDeviceAdmin)
    "otp_totp_totpdevice": "view delete",
    "otp_static_staticdevice": "view delete",
    "cpv_cpvcode": "view",
    # a council's own words for CPV codes (the portal's list comes from a file)
    "cpv_cpvsynonym": "view add change delete",
    # read-only: verified facts change through the services (ADR 12)
    "suppliers_supplierorganisation": "view",
    "suppliers_supplierchange": "view",
    "tenders_procurementpolicy": "view",
    "tenders_opportunity": "view",
    "tenders_routecheck": "view",
    "tenders_statutoryfigure": "view add change delete",
    "tenders_statutorydate": "view add change delete",
    "axes_accessattempt": "view change delete",
    "axes_accesslog": "view change delete",
    "axes_accessfailurelog": "view change delete",
}
ADMIN_KINDS = ("changelist", "add", "history", "delete", "change", "redirect")
NON_STAFF = ("supA", "supB", "offA", "offB", "audA")


def admin_model_rows(key: str, may: str) -> dict[str, str]:
    """The expected line of each of a model's admin pages."""
    app, model = admin_model_path(key)
    rows = {}
    for kind in ADMIN_KINDS:
        needs = {"add": "add", "delete": "delete"}.get(kind, "view")
        superuser = "200" if needs in may.split() else "403"
        plain_staff = "403"  # no model permissions
        if kind == "redirect":  # <object_id>/ → <object_id>/change/
            superuser = plain_staff = "302"
        name = f"admin/{app}/{model}/<path:object_id>/" if kind == "redirect" else None
        line = " ".join(["login", *["login"] * len(NON_STAFF), superuser, plain_staff])
        rows[name or f"admin:{key}_{kind}"] = line
    return rows


def admin_model_path(key: str) -> tuple[str, str]:
    for model in admin.site._registry:
        if f"{model._meta.app_label}_{model._meta.model_name}" == key:
            return model._meta.app_label, model._meta.model_name
    raise AssertionError(f"{key} is not registered in Django admin")


def parse(line: str) -> dict[str, str]:
    groups = [g.split() for g in line.split("|")]
    expected = dict.fromkeys(COLUMNS, "-")
    for names, tokens_ in zip((FOREIGN, OWN, MIXED), groups, strict=False):
        if tokens_ == ["-"]:
            continue
        assert len(tokens_) == len(names), (line, names)
        expected.update(zip(names, tokens_, strict=True))
    return expected


# --- The URL patterns ----------------------------------------------------------------------


def walk(patterns, prefix: str = "", namespace: str = ""):
    """(key, route, pattern) of every pattern, included URLconfs included; the
    key is the pattern's name (with its namespace) or, unnamed, its route."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            assert isinstance(pattern, URLPattern)
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route, pattern


def every_pattern() -> dict[str, str]:
    found: dict[str, str] = {}
    for key, route, _pattern in walk(get_resolver().url_patterns):
        assert key not in found, f"two patterns share the name {key}"
        found[key] = route
    return found


def expectations() -> dict[str, str]:
    rows = dict(MATRIX)
    for key, may in ADMIN_MODELS.items():
        rows.update(admin_model_rows(key, may))
    return rows


def test_every_url_pattern_has_an_expectation():
    found = every_pattern()
    registered = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    assert set(ADMIN_MODELS) == registered, (
        "Django admin models without a line in ADMIN_MODELS (or lines for models gone): "
        f"{sorted(set(ADMIN_MODELS) ^ registered)}"
    )
    rows = expectations()
    assert set(rows) == set(found), (
        f"patterns without an expectation: {sorted(set(found) - set(rows))}; "
        f"expectations without a pattern: {sorted(set(rows) - set(found))}"
    )
    for key, line in rows.items():
        parsed = parse(line)
        params = re.findall(r"<[^>]+>|\(\?P<", found[key])
        if params:
            assert all(parsed[c] != "-" for c in OWN) or key.startswith("admin"), key
        if len(params) >= 2 and found[key].startswith("opportunities/"):
            assert all(parsed[c] != "-" for c in MIXED), f"{key}: mixed objects not checked"
    # Every view that takes only POST (405 to a GET) is posted to as well.
    post_only = {key for key, line in rows.items() if "405" in line.split()}
    assert set(POST_MATRIX) == post_only, sorted(set(POST_MATRIX) ^ post_only)


# --- The two worlds ------------------------------------------------------------------------


def price_forms(price: str) -> list[str]:
    value = Decimal(price)
    return [f"{value:.2f}", f"{value:,.2f}"]


@dataclass
class World:
    name: str  # "A" or "B"
    council: BuyerOrganisation
    officers: tuple[User, User]
    supplier_user: User
    supplier: SupplierOrganisation = None  # type: ignore[assignment]
    colleague: User = None  # type: ignore[assignment]
    site: SupplierSite = None  # type: ignore[assignment]
    change: SupplierChange = None  # type: ignore[assignment]
    opportunity: Opportunity = None  # type: ignore[assignment]
    document: OpportunityDocument = None  # type: ignore[assignment]
    clarification: Clarification = None  # type: ignore[assignment]
    bid: Bid = None  # type: ignore[assignment]
    bid_file: BidFile = None  # type: ignore[assignment]  # a submitted version's
    draft_file: BidFile = None  # type: ignore[assignment]  # the same file in the draft
    receipt: InboxMessage = None  # type: ignore[assignment]
    past: Opportunity = None  # type: ignore[assignment]
    question: Question = None  # type: ignore[assignment]
    pass_fail: Question = None  # type: ignore[assignment]
    pricing_line: PricingLine = None  # type: ignore[assignment]
    payee: Payee = None  # type: ignore[assignment]  # issue 18: payees
    council_markers: list[str] = field(default_factory=list)
    bid_markers: list[str] = field(default_factory=list)
    supplier_markers: list[str] = field(default_factory=list)

    @property
    def lot(self):
        return self.bid.lot

    @property
    def criterion(self):
        return self.opportunity.criteria.get(is_price=False)


PRICES = {"A": "3871.29", "B": "3964.83"}
PAST_PRICES = {"A": "2777.31", "B": "2688.53"}
POSTCODES = {"A": "BD3 9QQ", "B": "LS6 2ZZ"}


def build_world(world: World, clock, capture) -> None:
    """The council's opportunity, the supplier's question, bid and receipt,
    its colleague and address; everything through the services."""
    w = world.name
    officer = world.officers[0]
    world.supplier = world.supplier_user.supplier
    world.colleague = user_create(
        email=f"colleague-{w.lower()}-5e1d@people.example",
        full_name=f"Colleague{w} Quillfeather",
        role="supplier",
        supplier=world.supplier,
        supplier_role="member",
        password="a long test passphrase",
        email_verified=True,
        by=None,
    )
    # The supplier's council approves it; its new address counts once an officer
    # accepts it, and a change of trading name waits for review (ADR 12).
    if status_of(world.supplier, world.council) != SupplierStatus.APPROVED:
        supplier_set_status(
            supplier=world.supplier,
            buyer=world.council,
            status=SupplierStatus.APPROVED,
            reason="Checked.",
            by=None,
        )
    (added,) = site_add(
        supplier=world.supplier,
        spec=SiteSpec(f"Unit {w}9 Marigold Yard", f"Town{w}zq", POSTCODES[w]),
        by=world.supplier_user,
    ).pending
    supplier_change_decide(change=added, accept=True, reason="Lease seen.", by=officer)
    world.site = SupplierSite.objects.get(supplier=world.supplier, postcode=POSTCODES[w])
    (world.change,) = supplier_update(
        supplier=world.supplier, by=world.supplier_user, trading_name=f"TRADING{w}-5d1c"
    ).pending
    # In a category the supplier works in: publishing refuses invitees outside it.
    category = world.supplier.categories.order_by("digits")[0]
    opportunity = make_opportunity(
        officer, "4000.00", title=f"Culvert survey OPP{w}-7c2e", cpv=category.code
    )
    # The questionnaire (issue 17): a quality question, a pass/fail one, one pricing line.
    world.question = Question.objects.create(
        opportunity=opportunity,
        kind=QuestionKind.QUALITY,
        criterion=opportunity.criteria.get(is_price=False),
        number=1,
        text=f"QUESTIONTEXT{w}-a41c: how will you survey the culvert?",
        word_limit=300,
        weight=100,
    )
    world.pass_fail = Question.objects.create(
        opportunity=opportunity,
        kind=QuestionKind.PASS_FAIL,
        number=2,
        text=f"PASSFAIL{w}-b52d: do you hold confined-space certificates?",
    )
    world.pricing_line = PricingLine.objects.create(
        opportunity=opportunity,
        number=1,
        description=f"Survey PRICELINE{w}-c63e",
        unit="job",
        quantity=1,
    )
    invite(opportunity=opportunity, suppliers=[world.supplier], by=officer)
    world.document = document_add(
        opportunity=opportunity,
        upload=SimpleUploadedFile(f"doc{w}-3c9e.pdf", f"%PDF-1.4 DOCBODY{w}-3c9e".encode()),
        by=officer,
    )
    opportunity_publish(opportunity=opportunity, by=officer)
    world.opportunity = Opportunity.objects.get(pk=opportunity.pk)
    person = world.supplier_user
    world.clarification = clarification_ask(
        opportunity=world.opportunity, by=person, question=f"QUESTION{w}-77ab: may we visit?"
    )
    file_bytes = f"%PDF-1.4 BIDBODY{w}-e2b4".encode()
    with capture(execute=True):
        bid = bid_start(lot=world.opportunity.lots.get(), by=person)
        bid_save_draft(
            bid=bid,
            by=person,
            price=Decimal(PRICES[w]),
            declarations=dict.fromkeys(DECLARATIONS, True),
        )
        bid_add_file(
            bid=bid, by=person, upload=SimpleUploadedFile(f"bidfile{w}-e2b4.pdf", file_bytes)
        )
        Answer.objects.create(
            bid=bid, question=world.question, text=f"ANSWERTEXT{w}-d74f: by camera crawler."
        )
        Answer.objects.create(bid=bid, question=world.pass_fail, confirmed=True)
        PriceRate.objects.create(
            bid=bid, line=world.pricing_line, rate=Decimal(PRICES[w]), total=Decimal(PRICES[w])
        )
        revision = bid_submit(bid=bid, by=person)
    world.bid = Bid.objects.get(pk=bid.pk)
    world.bid_file = BidFile.objects.get(bid=bid, revision__isnull=False)
    world.draft_file = BidFile.objects.get(bid=bid, revision__isnull=True)
    world.receipt = InboxMessage.objects.filter(recipient=person).latest("pk")
    world.past = awarded(
        world.council,
        world.officers,
        datetime.date(2025, 9, 1),
        world.supplier.legal_name,
        PAST_PRICES[w],
        title=f"Verge mowing AWARD{w}-91c0",
    ).award.lot.opportunity
    world.council_markers = [
        world.opportunity.title,
        world.opportunity.reference,
        world.past.title,
        world.past.reference,
        world.document.original_name,
        f"DOCBODY{w}-3c9e",
        world.clarification.question.split(":")[0],
        *price_forms(PAST_PRICES[w]),
        *(o.email for o in world.officers),
    ]
    world.council_markers += [
        world.question.text.split(":")[0],
        world.pass_fail.text.split(":")[0],
        f"PRICELINE{w}-c63e",
    ]
    world.bid_markers = [
        *price_forms(PRICES[w]),
        f"ANSWERTEXT{w}-d74f",
        world.bid_file.original_name,
        f"BIDBODY{w}-e2b4",
        hashlib.sha256(file_bytes).hexdigest()[:16],
        revision.receipt_reference,
    ]
    world.supplier_markers = [
        world.supplier.legal_name,
        world.colleague.full_name,
        world.colleague.email,
        world.site.address_line_1,
        f"TRADING{w}-5d1c",
    ]


def open_the_box(world: World, clock) -> None:
    box_open(opportunity=world.opportunity, by=world.officers[0])
    clock.shift(datetime.timedelta(minutes=2))
    box_open(opportunity=world.opportunity, by=world.officers[1])


# --- How each pattern is filled ------------------------------------------------------------


def a_flag(council: BuyerOrganisation) -> dict:
    """The first flag of ``council`` (a world's single-bid past award), for the
    flag review page; a flag of no record when the council has none."""
    for kind in KINDS:
        rows = flag_report(council, flag=kind.key).page.object_list
        if rows:
            return {"kind": kind.key, "record": rows[0].record_id}
    return {"kind": KINDS[0].key, "record": 0}


# name → kwargs from (w: the world of the first object, n: the world of nested ones)
Args = Callable[["World", "World"], dict]
ARGS: dict[str, Args] = {
    "inbox_message": lambda w, n: {"pk": w.receipt.pk},
    "password_reset_confirm": lambda w, n: {
        "uidb64": urlsafe_base64_encode(force_bytes(w.supplier_user.pk)),
        "token": "cn1x4k-0f2b6a8c9d1e3f5a7b9c",
    },
    "supplier_detail": lambda w, n: {"pk": w.supplier.pk},
    "supplier_status": lambda w, n: {"pk": w.supplier.pk},
    "supplier_change_decide": lambda w, n: {"pk": w.change.pk},
    "transparency:opportunity_history": lambda w, n: {"pk": w.opportunity.pk},
    "transparency:supplier_history": lambda w, n: {"pk": w.supplier.pk},
    "transparency:opportunity_ocds": lambda w, n: {"pk": w.past.pk},
    "transparency:council_ocds": lambda w, n: {
        "buyer": w.council.slug,
        "first": "2000-01-01",
        "last": "2099-12-31",
    },
    "transparency:flag_review": lambda w, n: a_flag(w.council),
    "verify_email": lambda w, n: {"token": tokens.make_token(w.supplier_user, tokens.VERIFY_EMAIL)},
    "resend_verification": lambda w, n: {
        "token": tokens.make_token(w.supplier_user, tokens.VERIFY_EMAIL)
    },
    "join": lambda w, n: {"token": tokens.make_token(w.colleague, tokens.JOIN)},
    "site_edit": lambda w, n: {"pk": w.site.pk},
    "site_remove": lambda w, n: {"pk": w.site.pk},
    "person_role": lambda w, n: {"pk": w.colleague.pk},
    "person_remove": lambda w, n: {"pk": w.colleague.pk},
    "person_unlock": lambda w, n: {"pk": w.colleague.pk},
    "unlock_account": lambda w, n: {"token": lockout.unlock_link(w.supplier_user).split("/")[-2]},
    "tenders:supplier_bid_file": lambda w, n: {
        "pk": w.opportunity.pk,
        "lot_pk": n.lot.pk,
        "file_pk": n.bid_file.pk,
    },
    "tenders:supplier_bid_file_remove": lambda w, n: {
        "pk": w.opportunity.pk,
        "lot_pk": n.lot.pk,
        "file_pk": n.draft_file.pk,
    },
    "tenders:supplier_bid": lambda w, n: {"pk": w.opportunity.pk, "lot_pk": n.lot.pk},
    "tenders:supplier_bid_withdraw": lambda w, n: {"pk": w.opportunity.pk, "lot_pk": n.lot.pk},
    # issue 17: answers
    "tenders:supplier_bid_check": lambda w, n: {"pk": w.opportunity.pk, "lot_pk": n.lot.pk},
    "tenders:supplier_bid_receipt": lambda w, n: {
        "pk": w.opportunity.pk,
        "bid_pk": n.bid.pk,
        "number": 1,
    },
    "tenders:supplier_bid_receipt_text": lambda w, n: {
        "pk": w.opportunity.pk,
        "bid_pk": n.bid.pk,
        "number": 1,
    },
    "tenders:clarification_answer": lambda w, n: {
        "pk": w.opportunity.pk,
        "clarification_pk": n.clarification.pk,
    },
    "tenders:lot_evaluation": lambda w, n: {"pk": w.opportunity.pk, "lot_pk": n.lot.pk},
    "tenders:lot_award": lambda w, n: {"pk": w.opportunity.pk, "lot_pk": n.lot.pk},
    "tenders:bid_detail": lambda w, n: {"pk": w.opportunity.pk, "bid_pk": n.bid.pk},
    "tenders:bid_score": lambda w, n: {
        "pk": w.opportunity.pk,
        "bid_pk": n.bid.pk,
        "criterion_pk": n.criterion.pk,
    },
    "tenders:bid_exclude": lambda w, n: {"pk": w.opportunity.pk, "bid_pk": n.bid.pk},
    "tenders:bid_file": lambda w, n: {
        "pk": w.opportunity.pk,
        "bid_pk": n.bid.pk,
        "file_pk": n.bid_file.pk,
    },
    "tenders:opportunity_document": lambda w, n: {
        "pk": w.opportunity.pk,
        "document_pk": n.document.pk,
    },
    "admin:view_on_site": lambda w, n: {
        "content_type_id": ContentType.objects.get_for_model(Opportunity).pk,
        "object_id": w.opportunity.pk,
    },
    "admin:app_list": lambda w, n: {"app_label": "tenders"},
    "admin:auth_user_password_change": lambda w, n: {"id": w.officers[0].pk},
    "admin:otp_totp_totpdevice_config": lambda w, n: {"pk": totp_of(w).pk},
    "admin:otp_totp_totpdevice_qrcode": lambda w, n: {"pk": totp_of(w).pk},
}
for _name in (
    "tenders:opportunity_ask",
    "tenders:opportunity_intention",
    "tenders:opportunity_edit",
    "tenders:opportunity_lot_builder",
    "tenders:opportunity_invite",
    "tenders:opportunity_invite_all_local",
    "tenders:opportunity_invitation_withdraw",
    "tenders:opportunity_publish",
    "tenders:opportunity_document_add",
    "tenders:opportunity_override",
    "tenders:opportunity_cancel",
    "tenders:opportunity_extend",
    "tenders:opportunity_correct",
    "tenders:opportunity_change_value",
    "tenders:box_open",
    "tenders:opportunity_detail",
    "tenders:opportunity_work_added_up",
):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk}


# issue 18: imports
def spend_import_of(world: World):
    """The world's council's spending import (uploaded once, on first use)."""
    from ledger.models import SpendImport
    from ledger.services.imports import import_upload

    name = f"SPENDFILE{world.name}-7a1e.csv"
    found = SpendImport.objects.filter(buyer=world.council, original_name=name).first()
    if found is not None:
        return found
    data = b"Date,Supplier,Amount\r\n01/04/2024,Acme,1.00\r\n"
    world.council_markers.append(name)
    return import_upload(
        buyer=world.council,
        upload=SimpleUploadedFile(name, data, content_type="text/csv"),
        by=world.officers[0],
    )


for _name in ("import_columns", "import_progress", "import_refused", "import_withdraw"):
    ARGS[f"ledger:{_name}"] = lambda w, n: {"pk": spend_import_of(w).pk}
ARGS["tenders:opportunity_calendar"] = lambda w, n: {"pk": w.opportunity.pk}
# issue 17: the questionnaire
for _name in (
    "tenders:questionnaire",
    "tenders:questionnaire_copy",
    "tenders:questionnaire_question_add",
    "tenders:questionnaire_line_add",
):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk}
for _name in (
    "tenders:questionnaire_question_edit",
    "tenders:questionnaire_question_remove",
    "tenders:questionnaire_question_move",
):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk, "question_pk": n.question.pk}
for _name in ("tenders:questionnaire_line_edit", "tenders:questionnaire_line_remove"):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk, "line_pk": n.pricing_line.pk}
# issue 17: award steps and report
for _name in ("tenders:challenges", "tenders:evaluation_report", "tenders:evaluation_report_pdf"):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk}
ARGS["tenders:lot_intention"] = lambda w, n: {"pk": w.opportunity.pk, "lot_pk": n.lot.pk}
ARGS["tenders:lot_letters"] = lambda w, n: {"pk": w.past.pk, "lot_pk": n.past.lots.get().pk}
ARGS["tenders:challenge_resolve"] = lambda w, n: {
    "pk": w.opportunity.pk,
    "challenge_pk": challenge_of(n).pk,
}


def challenge_of(world: World) -> Challenge:
    """The world's open challenge (recorded when first asked for: it pauses no page)."""
    challenge, _ = Challenge.objects.get_or_create(
        opportunity=world.opportunity,
        defaults={"details": "A challenge to the award.", "recorded_by": world.officers[0]},
    )
    return challenge


# issue 17: panel
for _name in (
    "tenders:panel",
    "tenders:panel_declaration",
    "tenders:marking",
    "tenders:marking_finish",
    "tenders:moderation",
):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk}
for _name in ("tenders:marking_bid", "tenders:moderation_bid"):
    ARGS[_name] = lambda w, n: {"pk": w.opportunity.pk, "bid_pk": n.bid.pk}
ARGS["tenders:supplier_outcome"] = lambda w, n: {"pk": w.opportunity.pk}


# issue 18: payees
for _name in (
    "ledger:payee",
    "ledger:payee_confirm",
    "ledger:payee_reject",
    "ledger:payee_unmatch",
    "ledger:payee_invite",
):
    ARGS[_name] = lambda w, n: {"pk": w.payee.pk}


def give_payee(world: World) -> None:
    """The council's spending paid a payee found nowhere else (a marker)."""
    officer = world.officers[0]
    spend = make_import(world.council, officer, name=f"spend{world.name}-4b7e.csv")
    payment = pay(
        world.council, spend, f"PAYEE{world.name}-4b7e Gully Works", "612.34", "2026-04-01"
    )
    world.payee = payment.payee
    world.council_markers.append(f"PAYEE{world.name}-4b7e")


def totp_of(world: World) -> TOTPDevice:
    return TOTPDevice.objects.filter(user=world.officers[0]).order_by("pk").first()


# The object of each Django admin model whose pages are asked for: the world's.
def admin_object(key: str, w: World):
    officer = w.officers[0]
    objects = {
        "auth_group": lambda: officer.groups.first() or _group(),
        "portal_user": lambda: officer,
        "portal_buyerorganisation": lambda: w.council,
        "portal_auditevent": lambda: AuditEvent.objects.filter(
            object_type="tenders.opportunity", object_id=str(w.opportunity.pk)
        ).latest("pk"),
        "portal_notification": lambda: Notification.objects.filter(
            recipient=w.supplier_user
        ).latest("pk"),
        "otp_totp_totpdevice": lambda: totp_of(w),
        "otp_static_staticdevice": lambda: StaticDevice.objects.get_or_create(
            user=officer, defaults={"name": "Recovery codes", "confirmed": True}
        )[0],
        "cpv_cpvcode": lambda: w.opportunity.cpv,
        "cpv_cpvsynonym": lambda: CpvSynonym.objects.get_or_create(
            buyer=w.council, term=f"words of {w.name}", code=w.opportunity.cpv
        )[0],
        "suppliers_supplierorganisation": lambda: w.supplier,
        "suppliers_supplierchange": lambda: w.change,
        "tenders_procurementpolicy": lambda: ProcurementPolicy.objects.filter(
            buyer=w.council
        ).first(),
        "tenders_opportunity": lambda: w.opportunity,
        "tenders_routecheck": lambda: RouteCheck.objects.filter(opportunity=w.opportunity).first(),
        "tenders_statutoryfigure": lambda: StatutoryFigure.objects.first(),
        "tenders_statutorydate": lambda: StatutoryDate.objects.first(),
        "axes_accessattempt": lambda: _axes("AccessAttempt", officer),
        "axes_accesslog": lambda: _axes("AccessLog", officer),
        "axes_accessfailurelog": lambda: _axes("AccessFailureLog", officer),
    }
    obj = objects[key]()
    assert obj is not None, f"no {key} of world {w.name} for Django admin's pages"
    return obj


def _group():
    from django.contrib.auth.models import Group

    return Group.objects.order_by("pk").first()


def _axes(model_name: str, user: User):
    """django-axes' records of a sign-in by ``user`` (written as axes would)."""
    from axes import models as axes_models

    model = getattr(axes_models, model_name)
    found = model.objects.filter(username=user.email).first()
    if found is not None:
        return found
    fields = {
        "username": user.email,
        "ip_address": "192.0.2.10",
        "user_agent": "matrix",
        "http_accept": "*/*",
        "path_info": "/sign-in/",
    }
    if model_name == "AccessAttempt":
        fields.update(get_data="", post_data="", failures_since_start=1)
    if model_name == "AccessFailureLog":
        fields.update(locked_out=False)
    return model.objects.create(**fields)


def admin_key(obj) -> str:
    """How Django admin names ``obj`` in its addresses: by its id, or by its row
    key where ids would show hidden rows (``portal.admin.UncountedAdmin``)."""
    model_admin = admin.site._registry[type(obj)]
    return str(model_admin.row_key(obj) if hasattr(model_admin, "row_key") else obj.pk)


def url_for(key: str, route: str, w: World, n: World) -> str:
    if key.startswith("admin/") and key.endswith("/<path:object_id>/"):
        app_model = key.removeprefix("admin/").removesuffix("/<path:object_id>/")
        obj = admin_object(app_model.replace("/", "_"), w)
        return f"/admin/{app_model}/{admin_key(obj)}/"
    if key == "admin/(?P<url>.*)$":
        return "/admin/no-such-page/"
    if key.startswith("admin:") and key.removeprefix("admin:").rsplit("_", 1)[-1] in ADMIN_KINDS:
        model_key, kind = key.removeprefix("admin:").rsplit("_", 1)
        if model_key in ADMIN_MODELS:
            args = [] if kind in {"changelist", "add"} else [admin_key(admin_object(model_key, w))]
            return reverse(key, args=args)
    kwargs = ARGS[key](w, n) if key in ARGS else {}
    return reverse(key, kwargs=kwargs)


# --- Asking ---------------------------------------------------------------------------------


def outcome(response) -> str:
    if response.status_code in {301, 302}:
        path = response["Location"].split("?")[0]
        return "login" if path in {reverse("login"), reverse("admin:login")} else "302"
    return str(response.status_code)


# issue 17: a PDF's text is compressed glyphs, which the scan cannot read: the
# scan reads the HTML the PDF was made from instead (``pdf_sources``).
PDF_SOURCES: list[str] = []


@pytest.fixture
def pdf_sources(monkeypatch):
    real = award_steps.report_pdf_html

    def keep(context):
        PDF_SOURCES.append(real(context))
        return PDF_SOURCES[-1]

    monkeypatch.setattr(award_steps, "report_pdf_html", keep)
    yield
    PDF_SOURCES.clear()


def body(response) -> str:
    if response.get("Content-Type") == "application/pdf" and PDF_SOURCES:
        return PDF_SOURCES.pop()
    if getattr(response, "streaming", False):
        # Read to the end: the test client then closes the response itself
        # (closing it here would also close the database connection).
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace")


# What every GET to an address only a button uses (405) finds (portal.post_only).
BUTTONS_PAGE = "This address is used by a button on a page of the portal"
SIGNS_OUT = {"logout", "admin:logout"}
# Patterns whose parameters name no organisation's data to show.
NO_OBJECT = {
    "password_reset_confirm",
    "verify_email",
    "join",
    "resend_verification",
    "unlock_account",
}


@pytest.fixture
def clock(demo_data, settings, tmp_path):
    """Frozen now; uploads in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def worlds(
    clock,
    officer,
    second_officer,
    local_supplier_user,
    distant_supplier_user,
    other_council,
    other_officer,
    in_process_tasks,
    django_capture_on_commit_callbacks,
):
    council_with_policy(other_council)
    other_second = user_create(
        email="officer2@other-borough.example",
        full_name="Ola Other",
        role="officer",
        password=demo.PASSWORD,
        buyer=other_council,
        by=None,
    )
    a = World("A", officer.buyer, (officer, second_officer), local_supplier_user)
    b = World("B", other_council, (other_officer, other_second), distant_supplier_user)
    for world in (a, b):
        build_world(world, clock, django_capture_on_commit_callbacks)
    clock.move_to(
        max(a.opportunity.submission_deadline, b.opportunity.submission_deadline)
        + datetime.timedelta(minutes=1)
    )
    for world in (a, b):
        open_the_box(world, clock)
    # issue 17: panel. Both officers evaluate, the first moderates; both declared.
    for world in (a, b):
        panel_set(
            opportunity=world.opportunity,
            by=world.officers[0],
            evaluators=list(world.officers),
            moderator=world.officers[0],
        )
        for person in world.officers:
            declaration_make(opportunity=world.opportunity, by=person, conflict=False, details="")
    # issue 18: payees. Each council paid a payee of its own (a marker name).
    for world in (a, b):
        give_payee(world)
    # Devices for the admin pages of the world's officers (give_authenticator).
    for world in (a, b):
        verified_force_login(Client()).force_login(world.officers[0])
    return a, b


def test_every_pattern_answers_every_persona_as_designed(
    worlds, auditor, admin_user, local_supplier_user, distant_supplier_user, pdf_sources
):
    a, b = worlds
    council_admin = user_create(
        email="admin2@demo-council.example",
        full_name="Cal Admin",
        role="admin",
        password=demo.PASSWORD,
        buyer=a.council,
        by=None,
    )
    assert admin_user.is_superuser and admin_user.buyer == a.council
    assert not council_admin.is_superuser and council_admin.is_staff
    people = {
        "anon": None,
        "supA": local_supplier_user,
        "supB": distant_supplier_user,
        "offA": a.officers[0],
        "offB": b.officers[0],
        "audA": auditor,
        "admA": admin_user,
        "cadm": council_admin,
    }
    # persona column → (person, world of the first object, world of nested ones)
    columns = {
        "anon": ("anon", a, a),
        "supA": ("supA", b, b),
        "supB": ("supB", a, a),
        "offA": ("offA", b, b),
        "offB": ("offB", a, a),
        "audA": ("audA", b, b),
        "admA": ("admA", b, b),
        "cadm": ("cadm", b, b),
        "supA*": ("supA", a, a),
        "offA*": ("offA", a, a),
        "audA*": ("audA", a, a),
        "admA*": ("admA", a, a),
        "supA~": ("supA", a, b),
        "offA~": ("offA", a, b),
        "audA~": ("audA", a, b),
    }
    # What each column must never be shown: the other organisation's data.
    everything = [m for w in (a, b) for m in w.council_markers + w.bid_markers]
    everything += [m for w in (a, b) for m in w.supplier_markers]
    forbidden = {"anon": everything}
    home = {"supA": a, "supB": b, "offA": a, "offB": b, "audA": a, "admA": a, "cadm": a}
    for column, (persona, _w, _n) in columns.items():
        if persona == "anon":
            continue
        other = b if home[persona] is a else a
        markers = other.council_markers + other.bid_markers
        if persona.startswith("sup"):
            markers += other.supplier_markers
        forbidden[column] = markers

    def client_for(persona: str) -> Client:
        client = verified_force_login(Client())
        if people[persona] is not None:
            client.force_login(people[persona])
        return client

    clients = {persona: client_for(persona) for persona in people}
    routes = every_pattern()
    mismatches: list[str] = []
    leaks: list[str] = []
    asked = 0
    unseen: list[str] = []  # own pages that should show their own data, and do not
    bare: list[str] = []  # a GET to a button's address answered with an empty 405
    for method, table in (("get", expectations()), ("post", POST_MATRIX)):
        for key, line in sorted(table.items()):
            for column, want in parse(line).items():
                if want == "-":
                    continue
                persona, w, n = columns[column]
                url = url_for(key, routes[key], w, n)
                client = client_for(persona) if key in SIGNS_OUT else clients[persona]
                response = getattr(client, method)(url)
                asked += 1
                got = outcome(response)
                where = f"{method.upper()} {url} [{key}] as {column}"
                if got != want:
                    mismatches.append(f"{where}: {got}, expected {want}")
                text = body(response)
                if method == "get" and got == "405" and BUTTONS_PAGE not in text:
                    bare.append(where)
                own = a.council_markers + a.bid_markers + a.supplier_markers
                if (
                    column in OWN
                    and got == "200"
                    and key in ARGS
                    and key not in NO_OBJECT
                    and not any(m in text for m in own)
                ):
                    unseen.append(where)
                if key.startswith("admin") and persona == "admA":
                    continue  # Django admin is the whole portal's (see the module's notes)
                found = [m for m in forbidden[column] if m in text]
                if found:
                    leaks.append(f"{where} ({got}) shows {found}")
    assert not mismatches and not leaks and not unseen and not bare, "\n".join(
        [
            f"{len(mismatches)} unexpected answers:",
            *mismatches,
            f"{len(leaks)} leaks:",
            *leaks,
            f"{len(unseen)} own pages without their own data (is the scan blind?):",
            *unseen,
            f"{len(bare)} GETs to a button's address without the page that says so:",
            *bare,
        ]
    )
    # Every pattern and every persona was asked, the markers were there to find.
    assert asked > len(routes) * len(FOREIGN)
    owner = clients["offA"].get(reverse("tenders:bid_detail", args=[a.opportunity.pk, a.bid.pk]))
    assert all(m in body(owner) for m in [*price_forms(PRICES["A"])[1:], a.bid_file.original_name])
