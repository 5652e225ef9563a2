"""``manage.py route_to_market``: the route the threshold rule gives a value,
category and date for a buyer — the same function the portal's pages use."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cpv.models import CpvCode
from cpv.selectors import get_code
from portal.models import BuyerOrganisation
from tenders import rules
from tenders.models import ContractKind, Opportunity
from tenders.services.routes import NoPolicy, current_route, route_for

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
        parser.add_argument(
            "--kind",
            help="goods, services, works or light_touch: whose statutory threshold applies "
            "(default: what the CPV division implies; works for 45, goods for 03-44 and 48)",
        )
        parser.add_argument(
            "--opportunity",
            type=int,
            help="Show a saved opportunity's route as its page decides it (today's facts), "
            "its reasons naming every piece of work added up, as a refusal does",
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        on = self._date(options["date"])
        try:
            if options["opportunity"] is not None:
                data = self._opportunity(options["opportunity"], on)
            else:
                # Input that needs no database is checked first.
                value = self._value(options["value"])
                basis = self._vat(options["vat"])
                kind = self._kind(options["kind"])
                result = route_for(
                    buyer=self._buyer(options["buyer"]),
                    value=value,
                    entered_basis=basis,
                    cpv=self._cpv(options["cpv"]),
                    on=on,
                    kind=kind,
                )
                data = self._decision(result)
        except NoPolicy as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        titles = {rules.INVITATION: "Invited bidders", rules.FULL_TENDER: "Full tender required"}
        title = titles.get(data["route"], "Not decided")
        self.stdout.write(f"Route: {title}" + (f" ({data['band']})" if data["band"] else ""))
        for reason in data["reasons"]:
            self.stdout.write(f"- {reason}")

    @staticmethod
    def _decision(result: Any) -> dict[str, Any]:
        decision = result.decision
        return {
            "route": decision.route,
            "band": decision.band.name if decision.band else None,
            "min_invited": decision.min_invited,
            "min_local": decision.min_local,
            "threshold": f"{decision.threshold:.2f}",
            "threshold_source": decision.threshold_source,
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

    @staticmethod
    def _opportunity(pk: int, on: datetime.date | None) -> dict[str, Any]:
        """The route the opportunity's page shows (``current_route``): the rule on
        the facts of ``on`` (today), or the decision last recorded once it is
        awarded or cancelled. Its reasons name every piece of work added up (the
        page names at most ten and links to the rest)."""
        opportunity = Opportunity.objects.select_related("buyer", "cpv").filter(pk=pk).first()
        if opportunity is None:
            raise CommandError(f"No opportunity with id {pk}.")
        route = current_route(opportunity, on=on)
        return {
            "opportunity": opportunity.reference,
            "status": opportunity.status_at(timezone.now()),
            "route": route.route,
            "band": route.band_name or None,
            "min_invited": route.min_invited,
            "min_local": route.min_local,
            "threshold": f"{route.threshold:.2f}" if route.threshold is not None else None,
            "threshold_source": route.threshold_source,
            "value_compared": (
                f"{route.value_compared:.2f}" if route.value_compared is not None else None
            ),
            "aggregated": [
                {
                    **work,
                    "value": f"{Decimal(work['value']):.2f}",
                    "published_on": str(work["published_on"]),
                }
                for work in route.aggregated
            ],
            "related_count": route.related_count,
            "policy_version": route.policy_version,
            "live": route.live,
            "decided_on": route.decided_on.isoformat() if route.decided_on else None,
            "changed_since_recorded": route.changed,
            "reasons": route.reasons,
        }

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
    def _cpv(text: str | None) -> CpvCode:
        if not text:
            raise CommandError("Give --cpv (a CPV code, e.g. 90910000-9).")
        try:
            return get_code(text)
        except ValidationError as exc:
            raise CommandError(exc.messages[0] + ".") from None

    @staticmethod
    def _kind(text: str | None) -> str | None:
        if text is None:
            return None
        if text not in ContractKind.values:
            known = ", ".join(ContractKind.values)
            raise CommandError(f"--kind must be one of {known}; got '{text}'.")
        return text

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
