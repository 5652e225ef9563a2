"""Suppliers of a batch: each with its sites, trades (CPV codes), the demo
council's decision on it, one user and the audit events of its registration.

A third are local to the demo council; most are approved. The demo persona
supplier (a demo login) joins them, so that it is invited and bids too.
"""

from __future__ import annotations

import datetime

from devdata.scale.batch import Batch, MadeSupplier
from devdata.scale.shapes import (
    NAME_WORDS,
    PERSONA_SUPPLIER,
    STREETS,
    SUFFIXES,
    SUPPLIER_DOMAIN,
    TOWNS_AWAY,
    TOWNS_LOCAL,
    TRADE_WEIGHTS,
    TRADES,
    UNUSABLE_PASSWORD,
)
from devdata.scale.writer import AuditRow, insert_audit
from portal.identity import normalise_email
from portal.models import Role, User
from suppliers.models import SupplierApproval, SupplierOrganisation, SupplierSite


def make_suppliers(batch: Batch) -> None:
    """Write ``sizes.suppliers`` suppliers; set the batch's suppliers, persona and pools."""
    rng, n, w = batch.rng, batch.sizes.suppliers, batch.writer
    offset = SupplierOrganisation.objects.count()
    first = w.reserve(SupplierOrganisation, n)
    first_user = w.reserve(User, n)
    made: list[MadeSupplier] = []
    orgs, sites, users, audit, approvals = [], [], [], [], []
    cats: list[tuple[int, str]] = []  # (supplier id, CPV code)
    codes = [code for code, _, _ in TRADES]
    for i in range(n):
        pk, number = first + i, offset + i + 1
        local = i % 3 == 0  # a third are local to the demo council
        town, districts = rng.choice(TOWNS_LOCAL if local else TOWNS_AWAY)
        district = rng.choice(districts)
        trade_codes = tuple(
            dict.fromkeys(rng.choices(codes, weights=TRADE_WEIGHTS, k=rng.choice([1, 1, 2, 3])))
        )
        trade = next(t for c, t, _ in TRADES if c == trade_codes[0])
        vcse = rng.random() < 0.08
        sme = vcse or rng.random() < 0.85
        suffix = "CIC" if vcse else rng.choice(SUFFIXES[:-2])
        name = f"{rng.choice(NAME_WORDS)} {trade} {number} {suffix}"
        status = rng.choices(["approved", "pending", "suspended"], weights=[90, 6, 4])[0]
        created = batch.between(batch.start - datetime.timedelta(days=400), batch.now)
        email = f"s{number:05d}@{SUPPLIER_DOMAIN}"
        orgs.append(
            (
                pk,
                name,
                "",
                "" if vcse else f"SC{number:06d}",
                f"{5_000_000 + number}" if vcse else "",
                sme,
                vcse,
                email,
                f"01274 {rng.randrange(100000, 999999)}",
                "",
                created,
            )
        )
        if status != "pending":  # the demo council's own decision
            approvals.append(
                (
                    pk,
                    batch.buyer.pk,
                    status,
                    "" if status == "approved" else "Seeded at council scale.",
                    created + datetime.timedelta(days=2),
                )
            )
        postcode = f"{district} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        postcode += rng.choice("ABDEFGHJLNPQRSTUWXYZ")
        sites.append((pk, f"{rng.randrange(1, 300)} {rng.choice(STREETS)}", town, postcode))
        if rng.random() < 0.1:  # a second site, sometimes in the other kind of place
            town2, districts2 = rng.choice(TOWNS_AWAY)
            sites.append(
                (pk, f"Unit {rng.randrange(1, 40)}", town2, f"{rng.choice(districts2)} 1AA")
            )
        cats.extend((pk, code) for code in trade_codes)
        users.append(
            (
                first_user + i,
                UNUSABLE_PASSWORD,
                email,
                normalise_email(email),
                batch.person(),
                Role.SUPPLIER,
                pk,
                "admin",
                created,
                True,
                created,
            )
        )
        made.append(
            MadeSupplier(
                pk=pk,
                user=first_user + i,
                email=email,
                name=name,
                local=local or district in batch.local_districts,
                sme=sme,
                vcse=vcse,
                approved=status == "approved",
                codes=trade_codes,
            )
        )
        audit.append(
            AuditRow(
                created, None, "supplier.registered", "suppliers.supplierorganisation", pk, name
            )
        )
        if status != "pending":
            audit.append(
                AuditRow(
                    created + datetime.timedelta(days=2),
                    None,
                    "supplier.status_changed",
                    "suppliers.supplierorganisation",
                    pk,
                    name,
                    changes={"status": ["pending", status]},
                    context={"reason": "Seeded at council scale."},
                )
            )
    w.insert(
        SupplierOrganisation,
        [
            "id",
            "legal_name",
            "trading_name",
            "companies_house_number",
            "charity_number",
            "is_sme",
            "is_vcse",
            "contact_email",
            "phone",
            "website",
            "created_at",
        ],
        orgs,
    )
    w.insert(
        SupplierApproval,
        ["supplier_id", "buyer_id", "status", "reason", "changed_at"],
        approvals,
    )
    w.insert(
        SupplierSite,
        ["supplier_id", "address_line_1", "address_line_2", "town", "postcode", "district"],
        ((s, a, "", t, p, p.split(" ")[0]) for s, a, t, p in sites),
    )
    w.insert(
        SupplierOrganisation.categories.through,
        ["supplierorganisation_id", "cpvcode_id"],
        cats,
    )
    w.insert(
        User,
        [
            "id",
            "password",
            "email",
            "email_key",
            "full_name",
            "role",
            "supplier_id",
            "supplier_role",
            "email_verified_at",
            "is_active",
            "date_joined",
        ],
        users,
    )
    insert_audit(w, audit)
    batch.suppliers = made
    batch.persona = _persona()
    batch.pool = _pools(made)


def _persona() -> MadeSupplier | None:
    """The demo persona supplier, if the demo council has it and its login."""
    persona = (
        SupplierOrganisation.objects.filter(legal_name=PERSONA_SUPPLIER)
        .prefetch_related("categories", "users")
        .first()
    )
    if persona is None or not persona.users.all():
        return None
    user = persona.users.all()[0]
    return MadeSupplier(
        pk=persona.pk,
        user=user.pk,
        email=user.email,
        name=persona.legal_name,
        local=True,
        sme=persona.is_sme,
        vcse=persona.is_vcse,
        approved=True,
        codes=tuple(c.pk for c in persona.categories.all()),
    )


def _pools(made: list[MadeSupplier]) -> dict[str, tuple[list[MadeSupplier], list[MadeSupplier]]]:
    """Approved suppliers by trade: (the local ones, the others)."""
    pools = {}
    for code, _, _ in TRADES:
        matching = [s for s in made if s.approved and code in s.codes]
        pools[code] = ([s for s in matching if s.local], [s for s in matching if not s.local])
    return pools
