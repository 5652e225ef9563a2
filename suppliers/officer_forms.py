"""Forms of the officers' supplier pages: the directory's filters and the
verification decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.urls import reverse

from cpv.forms import CpvCodeField
from portal.fields import ObjectsChoiceField
from portal.forms import gds_helper
from portal.models import BuyerOrganisation
from suppliers import selectors
from suppliers.models import STATUS_TRANSITIONS, SupplierOrganisation, SupplierStatus

if TYPE_CHECKING:
    from suppliers.selectors import SupplierForCouncil

REASON_MAX_LENGTH = 2000


class DirectoryFilterForm(forms.Form):
    """The directory's search and filters, sent by GET so results can be linked."""

    q = forms.CharField(
        label="Name or words",
        help_text="For example, Aire Valley, or cleaning Bradford",
        required=False,
        max_length=selectors.MAX_QUERY_LENGTH,
        error_messages={
            "max_length": f"Search text must be {selectors.MAX_QUERY_LENGTH} characters or fewer"
        },
    )
    category = CpvCodeField(
        label="Category (CPV code)",
        help_text="Includes the codes below it, like 90900000-6 for all cleaning",
        required=False,
    )
    only = forms.MultipleChoiceField(
        label="Show only",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    status = forms.ChoiceField(
        label="Status for your council",
        required=False,
        choices=[("", "Any status"), *SupplierStatus.choices],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(name, words) for name, (words, _) in selectors.DIRECTORY_SORTS.items()],
    )

    def __init__(self, *args: Any, buyer: BuyerOrganisation | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        only = [("sme", "SMEs"), ("vcse", "VCSEs")]
        # "Local" means local to the viewer's council; a portal-wide
        # administrator has none.
        if buyer is not None:
            only.insert(0, ("local", f"Local to {buyer.name}"))
        # The template draws the fields and the error summary with
        # ``govuk_fields`` (not crispy: this form is drawn on every search).
        # ``fields`` is typed as plain Fields; "only" is the MultipleChoiceField above.
        cast(forms.MultipleChoiceField, self.fields["only"]).choices = only

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for ``selectors.directory`` (call after ``is_valid``)."""
        data = self.cleaned_data
        only = set(data.get("only") or [])
        return {
            "query": data.get("q") or "",
            "category": data.get("category"),
            "local_only": "local" in only,
            # An unticked box means "any", not "not an SME".
            "sme": True if "sme" in only else None,
            "vcse": True if "vcse" in only else None,
            "status": data.get("status") or None,
            "sort": data.get("sort") or "",
        }


def status_actions(status: str) -> dict[str, tuple[SupplierStatus, str]]:
    """What an officer may do to a supplier in ``status``: ``{action: (target, label)}``.

    Follows ``STATUS_TRANSITIONS``; approving a suspended supplier is called
    reinstating it.
    """
    actions: dict[str, tuple[SupplierStatus, str]] = {}
    for target in SupplierStatus:
        if target not in STATUS_TRANSITIONS[status]:
            continue
        if target == SupplierStatus.APPROVED:
            label = "Reinstate" if status == SupplierStatus.SUSPENDED else "Approve"
        elif target == SupplierStatus.SUSPENDED:
            label = "Suspend"
        else:
            label = f"Make {target.label.lower()}"
        actions[label.lower().replace(" ", "_")] = (target, label)
    return actions


def reason_field() -> forms.CharField:
    """An officer's reason for a decision the supplier's people will read."""
    return forms.CharField(
        label="Reason",
        help_text="The supplier’s people will see this in their email and inbox.",
        widget=forms.Textarea,
        max_length=REASON_MAX_LENGTH,
        error_messages={
            "required": "Give a reason: the supplier will see it",
            "max_length": f"Reason must be {REASON_MAX_LENGTH} characters or fewer",
        },
    )


class SupplierStatusForm(forms.Form):
    """An officer's decision on a supplier for their own council: approve,
    suspend or reinstate, and why. ``supplier.status`` is its status for that
    council (``selectors.supplier_for_officer``)."""

    action = forms.ChoiceField(
        label="What do you want to do?",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what to do with this supplier"},
    )
    reason = reason_field()

    def __init__(self, *args: Any, supplier: SupplierForCouncil, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions = status_actions(supplier.status)
        # ``fields`` is typed as plain Fields; "action" is the ChoiceField above.
        field = cast(forms.ChoiceField, self.fields["action"])
        field.choices = [(action, label) for action, (_, label) in self.actions.items()]
        field.error_messages["invalid_choice"] = (
            f"{supplier} is {SupplierStatus(supplier.status).label.lower()} for your council: "
            "choose one of the actions offered"
        )
        self.helper = gds_helper(
            Field.radios("action", legend_size=Size.SMALL),
            Field.textarea("reason", label_size=Size.SMALL, rows=4),
            submit="Save decision",
            action=reverse("supplier_status", args=[supplier.pk]),
        )

    @property
    def target(self) -> SupplierStatus:
        """The status chosen (call after ``is_valid``)."""
        return self.actions[self.cleaned_data["action"]][0]


class ChangeDecisionForm(forms.Form):
    """An officer's review of a change a supplier asked for: accept or refuse, and why."""

    decision = forms.ChoiceField(
        label="Your decision",
        widget=forms.RadioSelect,
        choices=[
            ("accept", "Accept: it counts from now"),
            ("refuse", "Refuse: keep the verified facts"),
        ],
        error_messages={"required": "Choose whether to accept or refuse the change"},
    )
    reason = reason_field()

    def __init__(self, *args: Any, change_pk: int, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"change-{change_pk}")
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.radios("decision", legend_size=Size.SMALL, inline=True),
            Field.textarea("reason", label_size=Size.SMALL, rows=3),
            submit="Save the review",
            action=reverse("supplier_change_decide", args=[change_pk]),
        )


class BulkApproveForm(forms.Form):
    """Several suppliers waiting for verification, approved for one reason
    (the directory draws the checkboxes in its table, the reason below it)."""

    suppliers = ObjectsChoiceField(
        label="Suppliers to approve",
        queryset=SupplierOrganisation.objects.only("pk"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one supplier to approve",
            "invalid_choice": "A supplier you chose is no longer registered: choose again",
            "invalid_pk_value": "Choose suppliers from the list",
        },
    )
    reason = reason_field()

    def supplier_ids(self) -> list[int]:
        """The ids of the suppliers ticked (call after ``is_valid``)."""
        return [supplier.pk for supplier in self.cleaned_data["suppliers"]]
