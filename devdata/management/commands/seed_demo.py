"""Loads the demo council, its people and suppliers; safe to run again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings

from cpv.models import CpvCode
from cpv.services import cpv_load
from devdata import demo
from portal import services, two_factor
from portal.models import BuyerOrganisation, Department, User
from suppliers import services as supplier_services
from suppliers.models import SupplierOrganisation, SupplierStatus
from tenders import services as tender_services
from tenders.statutory import load_statutory_figures


class Command(BaseCommand):
    help = "Load the demo council, its officers, auditor, admin and suppliers, and print logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--opportunities",
            action="store_true",
            help="Also write two financial years of awarded contracts, more local suppliers, "
            "and demo opportunities in every state (three drafts, open, closed with sealed "
            "bids, in evaluation, awarded), and two years of the council's published "
            "spending (two overlapping files, imported), as make run does.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "seed_demo refuses to run in production mode (DJANGO_ENV=production)."
            )
        # The emails the demo's own story sends while it loads (invitations,
        # receipts, outcome letters …) are kept, not printed: on the console
        # they buried the logins under thousands of lines. Each is in its
        # person's inbox on the portal; emails from what people do next print.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            before = len(getattr(mail, "outbox", []))
            fresh = self._load(options)
            sent = len(getattr(mail, "outbox", [])) - before
        if sent:
            self.stdout.write(
                f"The demo's story sent {sent} emails while loading: not printed here, and "
                "each is in its person's inbox on the portal."
            )
        self._print_logins(fresh=fresh)

    def _load(self, options: dict[str, Any]) -> bool:
        """Load what is missing; whether anything was."""
        with transaction.atomic():
            created = self._seed()
            if options["opportunities"]:
                from devdata import demo_history, demo_opportunities

                buyer = BuyerOrganisation.objects.get(slug=demo.BUYER["slug"])
                created += self._suppliers(buyer, demo.EXTRA_SUPPLIERS)
                # The history first: the drafts' routes are decided with it added up.
                created += demo_history.seed(buyer, demo_history.officers())
                created += demo_opportunities.seed(buyer, demo_history.officers())
        if options["opportunities"]:
            # Issue 18: two years of the council's published spending, imported
            # as an officer would (each import commits as it goes, as the job does).
            from devdata import demo_history, demo_spending

            buyer = BuyerOrganisation.objects.get(slug=demo.BUYER["slug"])
            created += len(demo_spending.seed(buyer, demo_history.officers()[0]))
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} new records)."
                if created
                else "Demo data already present; nothing changed."
            )
        )
        return bool(created)

    def _seed(self) -> int:
        created = 0
        # The demo needs its suppliers' categories; load_cpv loads the rest.
        needed = {code for codes in demo.CATEGORIES.values() for code in codes}
        if CpvCode.objects.filter(code__in=needed).count() < len(needed):
            cpv_load(only=needed)
        buyer = BuyerOrganisation.objects.filter(slug=demo.BUYER["slug"]).first()
        if buyer is None:
            buyer = services.buyer_create(**demo.BUYER, by=None)
            services.locality_set(buyer=buyer, districts=demo.LOCALITY, by=None)
            created += 1
        for name in demo.DEPARTMENTS:
            if not Department.objects.filter(buyer=buyer, name=name).exists():
                services.department_create(buyer=buyer, name=name, by=None)
                created += 1
        created += load_statutory_figures()
        if not buyer.policies.exists():
            tender_services.policy_create(
                buyer=buyer,
                effective_from=demo.POLICY_EFFECTIVE_FROM,
                local_threshold=demo.LOCAL_THRESHOLD,
                bands=demo.BANDS,
                notes="Demo policy from RULES.md.",
                by=None,
            )
            created += 1
        for email, name, role, department in demo.STAFF:
            if User.objects.filter(email__iexact=email).exists():
                continue
            services.user_create(
                email=email,
                full_name=name,
                role=role,
                password=demo.PASSWORD,
                buyer=buyer,
                department=Department.objects.get(buyer=buyer, name=department)
                if department
                else None,
                is_superuser=role == "admin",
                by=None,
            )
            created += 1
        created += self._approvers()
        created += self._authenticators()
        created += self._suppliers(buyer, demo.SUPPLIERS)
        return created

    @staticmethod
    def _suppliers(buyer: BuyerOrganisation, rows: list[Any]) -> int:
        """The suppliers of ``rows`` that are missing, with the council's decision
        on each and their contact's login."""
        created = 0
        for legal, ch, charity, sme, vcse, status, site, contact in rows:
            if SupplierOrganisation.objects.filter(legal_name=legal).exists():
                continue
            supplier = supplier_services.supplier_create(
                legal_name=legal,
                companies_house_number=ch,
                charity_number=charity,
                is_sme=sme,
                is_vcse=vcse,
                contact_email=contact[0] if contact else "",
                categories=list(CpvCode.objects.filter(code__in=demo.CATEGORIES[legal])),
                sites=[supplier_services.SiteSpec(*site)],
                by=None,
            )
            if status != SupplierStatus.PENDING:
                supplier_services.supplier_set_status(
                    supplier=supplier,
                    buyer=buyer,
                    status=SupplierStatus(status),
                    reason="Demo data.",
                    by=None,
                )
            if contact:
                services.user_create(
                    email=contact[0],
                    full_name=contact[1],
                    role="supplier",
                    supplier_role="admin",
                    password=demo.PASSWORD,
                    supplier=supplier,
                    email_verified=True,
                    by=None,
                )
            created += 1
        return created

    @staticmethod
    def _approvers() -> int:
        """The second demo officer may record that aggregated work is separate."""
        group, made = Group.objects.get_or_create(name="Approvers")
        permission = Permission.objects.get(codename="approve_aggregation_override")
        group.permissions.add(permission)
        officer = User.objects.filter(email__iexact=demo.APPROVER).first()
        if officer is not None:
            officer.groups.add(group)
        return int(made)

    @staticmethod
    def _authenticators() -> int:
        """Each demo member of staff gets an authenticator with its known secret."""
        made = 0
        for user in User.objects.filter(email__in=list(demo.TOTP_SECRETS)):
            if two_factor.authenticator(user) is None:
                key = two_factor.key_from_base32(demo.TOTP_SECRETS[user.email])
                two_factor.give_authenticator(user, key=key)
                made += 1
        return made

    def _print_logins(self, *, fresh: bool = True) -> None:
        users = User.objects.filter(email__in=self._demo_emails()).select_related(
            "buyer", "supplier"
        )
        from devdata import demo_opportunities

        buyer = BuyerOrganisation.objects.filter(slug=demo.BUYER["slug"]).first()
        # What to try, when there are the demo opportunities to try it on.
        lines = demo_opportunities.describe(buyer) if buyer is not None else []
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {demo.PASSWORD})")
        order = self._demo_emails()
        for user in sorted(users, key=lambda u: order.index(u.email)):
            org = user.buyer or user.supplier
            self.stdout.write(
                f"  {user.get_role_display():<20} {user.email:<36} {user.full_name}, {org}"
            )
            if lines and user.email in demo.TRY:
                self.stdout.write(f"  {'':<20} try: {demo.TRY[user.email]}")
        approver = users.filter(email__iexact=demo.APPROVER).first()
        if approver is not None:
            self.stdout.write("")
            self.stdout.write(
                f"The approver (may record that aggregated work is genuinely separate): "
                f"{approver.full_name}, {approver.email}."
            )
        self.stdout.write("")
        if lines:
            self.stdout.write(
                "Demo opportunities:"
                if fresh
                else "Demo opportunities, as the demo first loaded them (what was done since is "
                "not shown; to start again from the beginning, stop the portal, delete var/ "
                "and run make run):"
            )
            for line in lines:
                self.stdout.write(f"  {line}")
            self.stdout.write("")
        from devdata import demo_spending

        spending = demo_spending.describe(buyer) if buyer is not None else []
        if spending:
            self.stdout.write("Demo spending (the council's published files, imported):")
            for line in spending:
                self.stdout.write(f"  {line}")
            self.stdout.write("")
        self.stdout.write(
            "Officers, the auditor and the administrator also enter a 6-digit code from an\n"
            "authenticator app. Add each secret below to your app (time-based, 30 seconds):"
        )
        for email, secret in demo.TOTP_SECRETS.items():
            self.stdout.write(f"  {email:<36} {two_factor.grouped(secret)}")
        self.stdout.write("")

    @staticmethod
    def _demo_emails() -> list[str]:
        emails = [email for email, *_ in demo.STAFF]
        emails += [row[7][0] for row in demo.SUPPLIERS + demo.EXTRA_SUPPLIERS if row[7]]
        return emails
