"""``bench deadline_rush``: invited suppliers bid in the last seconds before a deadline.

Set-up (in this process, through the services): a council of its own for the
run (``Deadline rush <id>``, locality BD1–BD24, the demo policy), one open
opportunity with one lot, and ``suppliers`` invited suppliers, each with a
signed-in session: taken from the council-scale data when it is there
(approved suppliers of ``seed_scale``), made for the run otherwise.

The run: the portal starts under gunicorn on 127.0.0.1 (two workers), behind
a front server that reads each request whole and stamps when it arrived
(``front.py``, as nginx does in docker-compose.yml; the portal trusts it and
no one else, ADR 17); the
deadline is moved to ``lead`` seconds ahead (60 s by default: the whole run
is the last minute before it); a load generator in a separate process has
every supplier, at its own start time, open the bid page (for the CSRF token)
and post its bid with a 1 MB PDF, "Submit bid", as a browser does. Most start
spread over the time before the deadline; ``race`` of them (10%) start in the
1.5 s either side of it. A capacity run (``spread``) starts them all within
that many seconds and none near the deadline: with more bids than the server
can take at once, ``bids_per_s`` is the rate it sustains.

It reports accepted, refused as late, errors, ``lost`` (answered as accepted
but not in the database, or in the database but not answered as accepted),
p95 of the submission request, ``bids_per_s`` (submissions answered per
second from the first sent to the last answered: the rate the server
sustained; when it kept up this is the rate offered, ``offered_per_s``) and
the machine's load average before and after, and checks every refusal
against the deadline: no refusal answered before it, no accepted bid sent or
received after it, and no bid sent a second or more before it refused (the
deadline is checked against the moment a bid was received, ADR 17: the
front server's time, so a bid queued behind others at gunicorn still counts;
one sent a second earlier and refused means the front server fell behind).
Rows stay (the audit trail is append-only; the run's council keeps them
apart); the uploaded files are removed, and the run's notifications (the
receipts, to memory) are delivered at the end, so that no work is left
pending.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from cpv.models import CpvCode
from devdata import demo
from devdata.bench import server as bench_server
from devdata.bench.sessions import session_for
from devdata.scale import SUPPLIER_DOMAIN
from portal.models import BuyerOrganisation, Notification, Role, User
from portal.notifications import deliver
from portal.services import buyer_create, locality_set, user_create
from suppliers.models import (
    SupplierApproval,
    SupplierOrganisation,
    SupplierSite,
    SupplierStatus,
)
from tenders.models import BidRevision, Lot, Opportunity
from tenders.services import (
    DECLARATIONS,
    CriterionSpec,
    LotSpec,
    invite,
    opportunity_create,
    opportunity_publish,
    policy_create,
)

LOAD_SCRIPT = Path(__file__).resolve().parent / "load.py"
FRONT_SCRIPT = Path(__file__).resolve().parent / "front.py"
FILE_BYTES = 1024 * 1024
RECEIPT = re.compile(r"/opportunities/(\d+)/bids/(\d+)/receipts/(\d+)/")


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _suppliers(
    n: int, run_id: str, buyer: BuyerOrganisation, works_in: CpvCode
) -> list[SupplierOrganisation]:
    """``n`` suppliers with an active person, approved by the run's council
    and doing the work of ``works_in`` (an opportunity is published only to
    suppliers in its category): from the scale data first, the rest made for
    this run (local to BD1)."""
    found = list(
        SupplierOrganisation.objects.filter(
            users__email__endswith=f"@{SUPPLIER_DOMAIN}",
            users__is_active=True,
        )
        .order_by("pk")
        .distinct()[:n]
    )
    missing = n - len(found)
    if missing > 0:
        made = SupplierOrganisation.objects.bulk_create(
            SupplierOrganisation(legal_name=f"Rush {run_id} Supplier {i}") for i in range(missing)
        )
        SupplierSite.objects.bulk_create(
            SupplierSite(
                supplier=s,
                address_line_1="1 Road",
                town="Bradford",
                postcode="BD1 1AA",
                district="BD1",
            )
            for s in made
        )
        User.objects.bulk_create(
            User(
                email=f"bids{s.pk}@rush-{run_id}.example",
                full_name=f"Rush bidder {s.pk}",
                role=Role.SUPPLIER,
                supplier=s,
                supplier_role="admin",
                password="!rush-no-password",  # noqa: S106  (unusable: sessions are written)
            )
            for s in made
        )
        found += made
    through = SupplierOrganisation.categories.through
    through.objects.bulk_create(
        (through(supplierorganisation_id=s.pk, cpvcode_id=works_in.pk) for s in found),
        ignore_conflicts=True,
    )
    # The run's council approves them for itself (each council verifies for itself).
    SupplierApproval.objects.bulk_create(
        SupplierApproval(
            supplier=s, buyer=buyer, status=SupplierStatus.APPROVED, reason="Benchmark run."
        )
        for s in found
    )
    return found


def set_up(n: int, run_id: str) -> tuple[Opportunity, list[tuple[User, str]]]:
    """The run's council, opportunity and invited suppliers with their sessions."""
    from portal.celery import app

    eager, backend = app.conf.task_always_eager, settings.EMAIL_BACKEND
    # The invitation emails of the set-up are delivered here, to memory.
    app.conf.task_always_eager = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    try:
        with transaction.atomic():
            buyer = buyer_create(
                name=f"Deadline rush {run_id}",
                slug=f"rush-{run_id}",
                identifier=f"R{run_id}".upper(),
                by=None,
            )
            locality_set(buyer=buyer, districts=demo.LOCALITY, by=None)
            policy_create(
                buyer=buyer,
                effective_from=demo.POLICY_EFFECTIVE_FROM,
                local_threshold=demo.LOCAL_THRESHOLD,
                bands=demo.BANDS,
                notes="For a deadline-rush benchmark.",
                by=None,
            )
            officer = user_create(
                email=f"officer@rush-{run_id}.example",
                full_name="Rush officer",
                role=Role.OFFICER,
                password=None,
                buyer=buyer,
                by=None,
            )
            cleaning = CpvCode.objects.get(code="90910000-9")
            suppliers = _suppliers(n, run_id, buyer, cleaning)
            now = timezone.now()
            opportunity = opportunity_create(
                buyer=buyer,
                by=officer,
                title="Office cleaning: deadline rush",
                description="A popular opportunity: every invitee bids at the last minute.",
                cpv=cleaning,
                contract_kind="services",
                lots=[LotSpec("Office cleaning", Decimal("5000.00"))],
                criteria=[CriterionSpec("Price", 100, is_price=True)],
                clarification_deadline=now + datetime.timedelta(hours=1),
                submission_deadline=now + datetime.timedelta(hours=2),
            )
            invite(
                opportunity=opportunity,
                suppliers=suppliers,
                by=officer,
                non_local_justification="Benchmark: every supplier may bid.",
            )
            opportunity_publish(opportunity=opportunity, by=officer)
    finally:
        app.conf.task_always_eager, settings.EMAIL_BACKEND = eager, backend
    # One person per supplier (keyed by supplier id, never None here: the
    # people are those of ``suppliers``).
    first_person: dict[int | None, User] = {}
    for person in User.objects.filter(supplier__in=suppliers, is_active=True).order_by("-pk"):
        first_person[person.supplier_id] = person
    people = sorted(first_person.values(), key=lambda p: p.pk)[:n]
    return opportunity, [(person, session_for(person)) for person in people]


def run(
    *,
    suppliers: int = 500,
    lead: float = 60,
    race: float = 0.1,
    spread: float | None = None,
    threads: int | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, Any]:
    if lead < 5:
        raise RuntimeError("--lead must be at least 5 seconds.")
    run_id = uuid.uuid4().hex[:6]
    load_before = os.getloadavg()
    out(f"Load average before: {_load(load_before)}")
    out(f"Setting up: a council of its own (rush-{run_id}), {suppliers} invited suppliers...")
    started = timezone.now()
    opportunity, people = set_up(suppliers, run_id)
    lot = opportunity.lots.get()
    form = reverse("tenders:supplier_bid", args=[opportunity.pk, lot.pk])
    media = Path(tempfile.mkdtemp(prefix="bench-rush-media-"))
    log_dir = Path(tempfile.mkdtemp(prefix="bench-rush-"))
    out(f"Starting gunicorn (2 workers) on 127.0.0.1 behind a front server; logs in {log_dir}")
    portal = bench_server.start(
        log_dir=log_dir,
        workers=2,
        env={
            "MEDIA_ROOT": str(media),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            # The front server below, and only it, says when a request arrived.
            "TRUSTED_PROXIES": "127.0.0.1",
        },
    )
    front_port = bench_server.free_port()
    front = subprocess.Popen(  # noqa: S603  (our own interpreter and script)
        [sys.executable, str(FRONT_SCRIPT), str(front_port), str(portal.port)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    cookie_name = settings.SESSION_COOKIE_NAME
    try:
        if front.stdout is None or front.stdout.readline().strip() != b"ready":
            raise RuntimeError("The front server did not start.")
        deadline = timezone.now() + datetime.timedelta(seconds=lead)
        Opportunity.objects.filter(pk=opportunity.pk).update(
            submission_deadline=deadline,
            clarification_deadline=deadline - datetime.timedelta(seconds=lead / 2),
        )
        at = deadline.timestamp()
        out(
            f"Deadline set to {timezone.localtime(deadline):%H:%M:%S.%f} UK time, {lead:.0f} s "
            f"ahead; {len(people)} suppliers bid with a {FILE_BYTES // 1024} KB file each."
        )
        starts = start_times(len(people), first=time.time() + 1.0, at=at, race=race, spread=spread)
        jobs = []
        for i, ((person, session), start) in enumerate(zip(people, starts, strict=True)):
            jobs.append(
                {
                    "id": person.pk,
                    "cookie": f"{cookie_name}={session}",
                    "csrf_cookie": settings.CSRF_COOKIE_NAME,
                    "form": form,
                    "price": f"{4000 + i % 900}.{i % 100:02d}",
                    "declarations": list(DECLARATIONS),
                    "start_at": start,
                }
            )
        job = {
            "mode": "rush",
            "host": portal.host,
            "port": front_port,
            # One client per supplier (as many browsers): requests go at their
            # time, and a server that cannot keep up shows as refusals of bids
            # sent before the deadline, not as a client that waits.
            "threads": threads or min(len(jobs), 500),
            "file_bytes": FILE_BYTES,
            "jobs": jobs,
        }
        loaded = subprocess.run(  # noqa: S603  (our own interpreter and script)
            [sys.executable, str(LOAD_SCRIPT)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=False,
            timeout=lead + 300,
        )
        if loaded.returncode != 0:
            raise RuntimeError(f"The load generator failed:\n{loaded.stderr}")
    finally:
        front.terminate()
        front.wait(timeout=30)
        portal.stop()
        shutil.rmtree(media, ignore_errors=True)
    results = json.loads(loaded.stdout)["results"]
    load_after = os.getloadavg()
    result = _report(results, opportunity, lot, deadline, people, lead, out, spread)
    result["load_before"], result["load_after"] = _load(load_before), _load(load_after)
    out(f"Load average after: {result['load_after']}")
    result["drained"] = drain(people, started=started)
    out(f"Delivered the run's {result['drained']} notification(s); none is left pending.")
    return result


def start_times(
    n: int, *, first: float, at: float, race: float, spread: float | None = None
) -> list[float]:
    """When each of ``n`` suppliers starts (epoch seconds; the deadline is
    ``at``): most spread evenly from ``first`` to 3 s before the deadline,
    ``race`` of them (at least two, with four or more) in the 3 s around it.
    A capacity run (``spread``): every supplier starts evenly within ``spread``
    seconds of ``first`` and none races the deadline, so the server has more
    than it can take at once and ``bids_per_s`` is what it sustains."""
    racing = max(2, round(n * race)) if n >= 4 else 0
    last = at - 3.0
    if spread is not None:
        racing, last = 0, min(last, first + spread)
    early = n - racing
    return [
        first + (last - first) * (i + 0.5) / max(1, early)
        if i < early
        else at - 1.5 + 3.0 * (i - early + 0.5) / racing
        for i in range(n)
    ]


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def drain(people: list[tuple[User, str]], *, started: datetime.datetime) -> int:
    """Deliver the notifications the run queued (its bidders' receipts; the
    gunicorn under test had no worker), to the in-memory email backend, so
    that the run leaves no pending work behind."""
    ids = list(
        Notification.objects.filter(
            recipient__in=[p for p, _ in people], created_at__gte=started, status="pending"
        ).values_list("pk", flat=True)
    )
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    try:
        for start in range(0, len(ids), 500):
            deliver(ids[start : start + 500])
    finally:
        settings.EMAIL_BACKEND = backend
    return len(ids)


def _report(
    results: list[dict[str, Any]],
    opportunity: Opportunity,
    lot: Lot,
    deadline: datetime.datetime,
    people: list[tuple[User, str]],
    lead: float,
    out: Callable[[str], None],
    spread: float | None = None,
) -> dict[str, Any]:
    at = deadline.timestamp()
    by_person = {p.pk: p for p, _ in people}
    accepted = [r for r in results if r["kind"] == "accepted"]
    late = [r for r in results if r["kind"] == "late"]
    errors = [r for r in results if r["kind"] == "error"]
    stored = {
        (bid, number): (supplier, received, submitted)
        for bid, number, supplier, received, submitted in BidRevision.objects.filter(
            bid__lot=lot
        ).values_list("bid_id", "number", "bid__supplier_id", "received_at", "submitted_at")
    }
    receipts = set()
    for r in accepted:
        match = RECEIPT.search(r.get("receipt", ""))
        if match:
            receipts.add((int(match[2]), int(match[3])))
    accepted_suppliers = {by_person[r["id"]].supplier_id for r in accepted}
    missing = [key for key in receipts if key not in stored]
    unanswered = [k for k, (supplier, _, _) in stored.items() if supplier not in accepted_suppliers]
    latencies = [r["answered_at"] - r["sent_at"] for r in accepted + late if "sent_at" in r]
    # The server's rate: bid submissions answered, from the first sent to the
    # last answered (the pages fetched before them are not counted).
    sent = [r["sent_at"] for r in results if "sent_at" in r]
    answered = [r["answered_at"] for r in results if "sent_at" in r and "answered_at" in r]
    seconds = (max(answered) - min(sent)) if sent and answered else 0
    offered = (max(sent) - min(sent)) if len(sent) > 1 else 0
    checks = {
        # Each must be 0.
        "refused_answered_before_deadline": sum(1 for r in late if r["answered_at"] <= at),
        "accepted_sent_after_deadline": sum(1 for r in accepted if r["sent_at"] > at),
        "accepted_received_after_deadline": sum(
            1 for _, received, _ in stored.values() if received is None or received > deadline
        ),
    }
    result = {
        "benchmark": "deadline_rush",
        "suppliers": len(people),
        "deadline_lead_s": lead,
        "spread_s": spread,
        "file_kb": FILE_BYTES // 1024,
        "accepted": len(accepted),
        "refused_late": len(late),
        "errors": len(errors),
        "lost": len(missing) + len(unanswered),
        "p95_ms": round(_percentile(latencies, 95) * 1000, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "bids_per_s": round(len(answered) / seconds, 1) if seconds else 0,
        "offered_per_s": round(len(sent) / offered, 1) if offered else 0,
        # Received in time and recorded after the deadline: valid (ADR 17).
        "accepted_committed_after_deadline": sum(
            1 for _, _, submitted in stored.values() if submitted > deadline
        ),
        **checks,
        # Sent before the deadline but received after it (still arriving, or
        # queued before the application read it): shown, not a fault.
        "refused_sent_before_deadline": sum(1 for r in late if r.get("sent_at", at) <= at),
        # Sent a second or more before the deadline and still refused: the
        # server did not keep up (0 when it does).
        "refused_sent_1s_before_deadline": sum(1 for r in late if r.get("sent_at", at) <= at - 1.0),
        "opportunity": opportunity.pk,
        "database": connection.vendor,
    }
    # The targets: nothing lost, no errors, no refusal before the deadline, and
    # no bid sent a second or more before it refused (the server kept up).
    result["ok"] = (
        result["lost"] == 0
        and result["errors"] == 0
        and not any(checks.values())
        and result["refused_sent_1s_before_deadline"] == 0
    )
    out("")
    out(
        f"accepted {result['accepted']}, refused as late {result['refused_late']}, "
        f"errors {result['errors']}, lost {result['lost']}, p95 {result['p95_ms']} ms, "
        f"bids_per_s {result['bids_per_s']} (offered {result['offered_per_s']})"
    )
    out(
        f"  accepted_committed_after_deadline: {result['accepted_committed_after_deadline']} "
        "(received in time, recorded after the deadline: valid)"
    )
    for name, value in checks.items():
        out(f"  {name}: {value}")
    out(
        f"  refused_sent_before_deadline: {result['refused_sent_before_deadline']} "
        "(sent before, received after the deadline), "
        f"{result['refused_sent_1s_before_deadline']} of them sent 1 s or more before it"
    )
    for r in errors[:5]:
        out(f"  error: {r.get('detail', '')[:200]}")
    out(
        "OK: nothing lost, no errors, no refusal before the deadline, and every bid sent a "
        "second or more before it accepted."
        if result["ok"]
        else "NOT OK: see the figures above."
    )
    return result
