"""``manage.py route_to_market``: the route the threshold rule gives a value,
category and date for a buyer — the same function the portal's pages use."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cpv.selectors import get_code
from portal.models import BuyerOrganisation
from tenders import rules
from tenders.models import Opportunity
from tenders.services.routes import NoPolicy, opportunity_value, route_for

VAT = {
    "incl": rules.INCLUSIVE,
    "inclusive": rules.INCLUSIVE,
    "excl": rules.EXCLUSIVE,
    "exclusive": rules.EXCLUSIVE,
}


class Command(BaseCommand):
    help = (
        "Print the route to market (invited bidders or full tender) for a value, CPV code "
        "and date, with the reasons; or for a saved opportunity with --opportunity."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--buyer", help="The buyer organisation's slug, e.g. demo-council")
        parser.add_argument("--value", help="Estimated value of the whole contract, e.g. 179999.99")
        parser.add_argument("--cpv", help="CPV code, e.g. 90910000-9")
        parser.add_argument("--date", help="YYYY-MM-DD (default: today in Europe/London)")
        parser.add_argument(
            "--vat", default="incl", help="incl (default) or excl: the value's basis"
        )
        parser.add_argument("--opportunity", type=int, help="Check a saved opportunity instead")
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        on = self._date(options["date"])
        try:
            if options["opportunity"] is not None:
                opportunity = (
                    Opportunity.objects.select_related("buyer", "cpv")
                    .filter(pk=options["opportunity"])
                    .first()
                )
                if opportunity is None:
                    raise CommandError(f"No opportunity with id {options['opportunity']}.")
                result = route_for(
                    buyer=opportunity.buyer,
                    value=opportunity_value(opportunity),
                    entered_basis=opportunity.value_vat_basis,
                    cpv=opportunity.cpv,
                    on=on,
                    exclude=opportunity,
                    override=bool(opportunity.aggregation_override),
                )
            else:
                # Input that needs no database is checked first.
                value = self._value(options["value"])
                basis = self._vat(options["vat"])
                result = route_for(
                    buyer=self._buyer(options["buyer"]),
                    value=value,
                    entered_basis=basis,
                    cpv=self._cpv(options["cpv"]),
                    on=on,
                )
        except NoPolicy as exc:
            raise CommandError(str(exc)) from None
        decision = result.decision
        data = {
            "route": decision.route,
            "band": decision.band.name if decision.band else None,
            "min_invited": decision.min_invited,
            "min_local": decision.min_local,
            "threshold": f"{decision.threshold:.2f}",
            "value_compared": f"{decision.value_compared:.2f}",
            "aggregated_value": f"{decision.aggregated_value:.2f}",
            "aggregated": [
                {
                    "reference": r.reference,
                    "title": r.title,
                    "value": f"{r.value:.2f}",
                    "published_on": r.published_on.isoformat(),
                }
                for r in decision.aggregated
            ],
            "vat_basis": result.policy.vat_basis,
            "policy_version": decision.policy_version,
            "policy_effective_from": result.policy.effective_from.isoformat(),
            "reasons": decision.reasons,
        }
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        title = "Invited bidders" if decision.invitation_allowed else "Full tender required"
        self.stdout.write(f"Route: {title}" + (f" ({data['band']})" if data["band"] else ""))
        for reason in decision.reasons:
            self.stdout.write(f"- {reason}")

    @staticmethod
    def _buyer(slug: str | None) -> BuyerOrganisation:
        if not slug:
            raise CommandError("Give --buyer (a buyer organisation's slug, e.g. demo-council).")
        buyer = BuyerOrganisation.objects.filter(slug=slug).first()
        if buyer is None:
            known = ", ".join(BuyerOrganisation.objects.values_list("slug", flat=True)[:10])
            raise CommandError(f"No buyer organisation '{slug}'. Known: {known or 'none'}.")
        return buyer

    @staticmethod
    def _value(text: str | None) -> Decimal:
        if text is None:
            raise CommandError("Give --value (the estimated value in pounds, e.g. 179999.99).")
        try:
            value = Decimal(text.replace(",", "").lstrip("£"))
        except InvalidOperation:
            raise CommandError(
                f"--value must be an amount in pounds, like 179999.99; got '{text}'."
            ) from None
        if not value.is_finite() or value < 0:
            raise CommandError(f"--value must be zero or more; got '{text}'.")
        if value != value.quantize(Decimal("0.01")):
            raise CommandError(f"--value has more than two decimal places: '{text}'.")
        return value

    @staticmethod
    def _cpv(text: str | None):
        if not text:
            raise CommandError("Give --cpv (a CPV code, e.g. 90910000-9).")
        try:
            return get_code(text)
        except ValidationError as exc:
            raise CommandError(exc.messages[0] + ".") from None

    @staticmethod
    def _vat(text: str) -> str:
        try:
            return VAT[text.lower()]
        except KeyError:
            raise CommandError(f"--vat must be incl or excl; got '{text}'.") from None

    @staticmethod
    def _date(text: str | None) -> datetime.date | None:
        if text is None:
            return None
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD; got '{text}'.") from None
