"""Forms a supplier fills in: registration, profile, addresses, colleagues."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.layout import HTML, Field, Fieldset, Fluid, Size
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from cpv.forms import CpvCodesField
from portal.forms import EMAIL_FORMAT, email_address, gds_helper
from portal.models import User
from portal.postcodes import InvalidPostcode, normalise_postcode
from suppliers.identifiers import normalise_charity_number, normalise_company_number
from suppliers.models import SupplierOrganisation, SupplierRole
from suppliers.services import SiteSpec

YES_NO = [(True, "Yes"), (False, "No")]


def _yes_no(label: str, help_text: str, error: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value in (True, "True"),
        widget=forms.RadioSelect,
        error_messages={"required": error},
    )


class OrganisationFields(forms.Form):
    """What a council needs to know about an organisation."""

    # The organisation being edited, whose own numbers are not "taken" (none when registering).
    supplier_pk: int | None = None

    legal_name = forms.CharField(
        label="Legal name",
        max_length=200,
        help_text="As registered, for example with Companies House.",
        error_messages={"required": "Enter your organisation's legal name"},
    )
    trading_name = forms.CharField(
        label="Trading name (optional)",
        max_length=200,
        required=False,
        help_text="If you trade under a different name.",
    )
    companies_house_number = forms.CharField(
        label="Companies House number (optional)",
        max_length=12,
        required=False,
        help_text="8 characters, like 01234567 or SC123456. Leave blank if you do not have one.",
    )
    charity_number = forms.CharField(
        label="Charity number (optional)",
        max_length=14,
        required=False,
        help_text="Like 1123456, SC012345 or NIC100000.",
    )
    is_sme = _yes_no(
        "Is it a small or medium-sized enterprise (SME)?",
        "Fewer than 250 staff, and turnover up to £44 million or balance sheet up to £38 million.",
        "Select yes if your organisation is an SME",
    )
    is_vcse = _yes_no(
        "Is it a voluntary, community or social enterprise (VCSE)?",
        "A charity, community interest company, co-operative, social enterprise or similar.",
        "Select yes if your organisation is a VCSE",
    )
    phone = forms.CharField(
        label="Phone number (optional)",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    website = forms.URLField(
        label="Website (optional)",
        required=False,
        assume_scheme="https",
        error_messages={"invalid": "Enter a website address, like www.example.co.uk"},
    )
    categories = CpvCodesField(
        label="Categories of work",
        help_text=(
            "CPV codes for the work you do, one a line or separated by commas, like 90910000-9 "
            "for cleaning services. A code also covers the more specific codes below it."
        ),
    )

    def clean_companies_house_number(self) -> str:
        number = normalise_company_number(self.cleaned_data["companies_house_number"])
        taken = SupplierOrganisation.objects.filter(companies_house_number=number)
        if self.supplier_pk is not None:
            taken = taken.exclude(pk=self.supplier_pk)
        if number and taken.exists():
            raise ValidationError(
                f"An organisation with Companies House number {number} is already registered. "
                "Ask its administrator to invite you, or contact the council's procurement team."
            )
        return number

    def clean_charity_number(self) -> str:
        number = normalise_charity_number(self.cleaned_data["charity_number"])
        taken = SupplierOrganisation.objects.filter(charity_number=number)
        if self.supplier_pk is not None:
            taken = taken.exclude(pk=self.supplier_pk)
        if number and taken.exists():
            raise ValidationError(
                f"An organisation with charity number {number} is already registered. "
                "Ask its administrator to invite you."
            )
        return number


class SiteFields(forms.Form):
    address_line_1 = forms.CharField(
        label="Address line 1",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
        error_messages={"required": "Enter address line 1, typically the building and street"},
    )
    address_line_2 = forms.CharField(
        label="Address line 2 (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    town = forms.CharField(
        label="Town or city",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
        error_messages={"required": "Enter town or city"},
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
        error_messages={"required": "Enter postcode"},
    )

    def clean_postcode(self) -> str:
        try:
            return normalise_postcode(self.cleaned_data["postcode"])
        except InvalidPostcode as exc:
            raise ValidationError(str(exc)) from None

    def site_spec(self) -> SiteSpec:
        data = self.cleaned_data
        return SiteSpec(
            address_line_1=data["address_line_1"],
            address_line_2=data["address_line_2"],
            town=data["town"],
            postcode=data["postcode"],
        )


SITE_LAYOUT = [
    Field.text("address_line_1"),
    Field.text("address_line_2"),
    Field.text("town", field_width=Fluid.TWO_THIRDS),
    Field.text("postcode", field_width=10),
]


def _organisation_layout(*, legend_size: str = Size.MEDIUM) -> list[Any]:
    return [
        Field.text("legal_name"),
        Field.text("trading_name"),
        Field.text("companies_house_number", field_width=10),
        Field.text("charity_number", field_width=10),
        Field.radios("is_sme", inline=True, legend_size=Size.SMALL),
        Field.radios("is_vcse", inline=True, legend_size=Size.SMALL),
        Field.text("phone", field_width=20),
        Field.text("website"),
    ]


CPV_FINDER = HTML(
    '<p class="govuk-body"><a class="govuk-link" href="{% url "cpv:find" %}" target="_blank" '
    'rel="noopener">Find CPV codes by words (opens in a new tab)</a></p>'
)


def check_new_password(form: forms.Form, user: User) -> None:
    """The two password fields match and pass the portal's password rules."""
    first = form.cleaned_data.get("password1")
    second = form.cleaned_data.get("password2")
    if first and second and first != second:
        form.add_error("password2", "The passwords do not match")
    elif first:
        try:
            password_validation.validate_password(first, user)
        except ValidationError as exc:
            form.add_error("password1", exc)


class RegistrationForm(OrganisationFields, SiteFields):
    full_name = forms.CharField(
        label="Your full name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your full name"},
    )
    email = forms.EmailField(
        label="Your email address",
        help_text="We will send a link to confirm it. You will sign in with it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={"required": "Enter your email address", "invalid": EMAIL_FORMAT},
    )
    password1 = forms.CharField(
        label="Create a password",
        strip=False,
        help_text="At least 12 characters. A few unrelated words make a strong password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Create a password"},
    )
    password2 = forms.CharField(
        label="Confirm your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Confirm your password"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Fieldset(*_organisation_layout(), legend="Your organisation", legend_size=Size.MEDIUM),
            Fieldset(
                *SITE_LAYOUT,
                legend="Where you work from",
                legend_size=Size.MEDIUM,
            ),
            HTML(
                '<p class="govuk-body">Councils use this address to find local suppliers. You '
                "can add more addresses after you register.</p>"
            ),
            Fieldset(
                Field.textarea("categories", rows=4),
                CPV_FINDER,
                legend="What you do",
                legend_size=Size.MEDIUM,
            ),
            Fieldset(
                Field.text("full_name"),
                Field.text("email"),
                Field.text("password1", field_width=Fluid.ONE_HALF),
                Field.text("password2", field_width=Fluid.ONE_HALF),
                legend="About you",
                legend_size=Size.MEDIUM,
            ),
            submit="Register",
            novalidate=True,
        )

    def clean_email(self) -> str:
        # Whether the address has an account is never said here: the service
        # answers as for a new one and tells the account's owner.
        return email_address(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        probe = User(email=data.get("email") or "", full_name=data.get("full_name") or "")
        check_new_password(self, probe)
        return data


class OrganisationForm(OrganisationFields):
    def __init__(self, *args: Any, supplier: SupplierOrganisation, **kwargs: Any) -> None:
        self.supplier_pk = supplier.pk
        kwargs.setdefault(
            "initial",
            {
                **{
                    name: getattr(supplier, name)
                    for name in self.base_fields
                    if name != "categories"
                },
                "categories": list(supplier.categories.all()),
            },
        )
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            *_organisation_layout(),
            Field.textarea("categories", rows=4),
            CPV_FINDER,
            submit="Save changes",
        )


class SiteForm(SiteFields):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(*SITE_LAYOUT, submit="Save address")


ROLE_CHOICES = [
    (SupplierRole.MEMBER, "Member: can see invitations and bid"),
    (SupplierRole.ADMIN, "Administrator: can also manage colleagues and the profile"),
]


class InviteForm(forms.Form):
    full_name = forms.CharField(
        label="Full name", max_length=200, error_messages={"required": "Enter their full name"}
    )
    email = forms.EmailField(
        label="Email address",
        error_messages={"required": "Enter their email address", "invalid": EMAIL_FORMAT},
    )
    supplier_role = forms.ChoiceField(
        label="Role",
        choices=ROLE_CHOICES,
        initial=SupplierRole.MEMBER,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a role"},
    )

    def __init__(self, *args: Any, supplier: SupplierOrganisation, **kwargs: Any) -> None:
        self.supplier = supplier
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.text("full_name"),
            Field.text("email"),
            Field.radios("supplier_role", legend_size=Size.SMALL),
            submit="Send invitation",
        )

    def clean_email(self) -> str:
        email = email_address(self.cleaned_data["email"])
        # Someone of this organisation who has not joined, or was removed, may
        # be invited again. Whether an address has an account elsewhere is never
        # said (the service tells its owner instead).
        existing = User.objects.with_email(email).first()
        if existing is not None and existing.supplier_id == self.supplier.pk and existing.is_active:
            raise ValidationError(
                f"{existing.full_name} is already one of your organisation's people."
            )
        return email


class RoleForm(forms.Form):
    supplier_role = forms.ChoiceField(
        label="Role",
        choices=ROLE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a role"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.radios("supplier_role", legend_size=Size.SMALL), submit="Save role"
        )


class JoinForm(forms.Form):
    password1 = RegistrationForm.base_fields["password1"]
    password2 = RegistrationForm.base_fields["password2"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(
            Field.text("password1", field_width=Fluid.ONE_HALF),
            Field.text("password2", field_width=Fluid.ONE_HALF),
            submit="Create account",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        check_new_password(self, self.user)
        return self.cleaned_data
