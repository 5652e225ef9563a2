"""How every form is drawn with the GOV.UK Design System (``gds_helper``), and
the sign-in, two-factor and password forms."""

from __future__ import annotations

from typing import Any

from crispy_forms.utils import TEMPLATE_PACK
from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Fixed, Fluid, Layout, Submit
from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.template.loader import render_to_string

from portal.identity import normalise_email
from portal.two_factor import normalise_code

EMAIL_MAX_LENGTH = 254
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"


class TextSubmit(Submit):
    """A submit button whose text may hold what people typed (a criterion's
    name): shown as given, escaped, and never read as template code, which is
    what crispy-forms does with a ``Submit``'s text."""

    def render(
        self, form: Any, context: Any, template_pack: str = TEMPLATE_PACK, **kwargs: Any
    ) -> str:
        context.update({"input": self})
        return render_to_string(self.get_template_name(template_pack), context.flatten())


def gds_helper(
    *layout: Any,
    submit: str = "",
    action: str = "",
    novalidate: bool = True,
    form_tag: bool = True,
) -> FormHelper:
    """The crispy-forms-gds helper of a form: every form sets its own with this.

    ``layout`` is drawn in order (fields, fieldsets, text, buttons); ``submit``
    adds the usual button (named "submit") at the end. The form posts to
    ``action``, or to its own page when empty. Every form leaves checking to the
    server (``novalidate``, as the GOV.UK Design System advises), so that
    mistakes show in the error summary and the fields' error messages rather
    than the browser's bubbles; ``novalidate=False`` is for a form that wants
    them. ``form_tag=False`` draws only the fields, inside a page's own
    ``<form>`` (which carries the CSRF token).
    """
    helper = FormHelper()
    if action:
        helper.form_action = action
    if novalidate:
        helper.attrs = {"novalidate": ""}
    if not form_tag:
        helper.form_tag = False
        helper.disable_csrf = True
    buttons = [Submit("submit", submit)] if submit else []
    helper.layout = Layout(*layout, *buttons)
    return helper


def email_address(value: str) -> str:
    """An email address as typed into a form, lower-cased; one that is too long
    once normalised (``portal.identity``) is refused like a malformed one."""
    email = value.strip().lower()
    if len(normalise_email(email)) > EMAIL_MAX_LENGTH:
        raise ValidationError(EMAIL_FORMAT)
    return email


class SignInForm(auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct email address and password. Both are case-sensitive "
        "except the email address.",
        "inactive": "This account has been switched off. Contact your council's procurement team.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autocomplete": "email", "spellcheck": "false"}
        )
        self.fields["username"].error_messages["required"] = "Enter your email address"
        # AuthenticationForm sets max_length after the field is made, which adds no
        # validator: a very long "email" went to the database (on SQLite, a LIKE
        # pattern too complex to run: a 500).
        self.fields["username"].validators.append(
            MaxLengthValidator(
                EMAIL_MAX_LENGTH,
                message=f"Email address must be {EMAIL_MAX_LENGTH} characters or fewer",
            )
        )
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.helper = gds_helper(Field.text("username"), Field.text("password"), submit="Sign in")


class PasswordResetForm(forms.Form):
    """The address to send a reset link to; ``portal.services.password_reset_request``
    decides whether one goes."""

    email = forms.EmailField(
        label="Email address",
        max_length=EMAIL_MAX_LENGTH,
        help_text="The address you sign in with.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": "Enter your email address", "invalid": EMAIL_FORMAT},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(Field.text("email"), submit="Send reset link")


class SetPasswordForm(auth_forms.SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].error_messages["required"] = "Enter the new password again"
        self.helper = gds_helper(
            Field.text("new_password1", field_width=Fluid.ONE_HALF),
            Field.text("new_password2", field_width=Fluid.ONE_HALF),
            submit="Save new password",
        )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].error_messages["required"] = "Enter your current password"
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].error_messages["required"] = "Enter the new password again"
        self.helper = gds_helper(
            Field.text("old_password", field_width=Fluid.ONE_HALF),
            Field.text("new_password1", field_width=Fluid.ONE_HALF),
            Field.text("new_password2", field_width=Fluid.ONE_HALF),
            submit="Change password",
        )


class AuthenticatorCodeForm(forms.Form):
    """The 6-digit code an authenticator app shows (sign-in and set-up)."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def __init__(self, *args: Any, submit: str = "Continue", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "code"
        ].help_text = f"The 6-digit code the app shows now for {settings.SERVICE_NAME}."
        self.helper = gds_helper(Field.text("code", field_width=Fixed.TEN), submit=submit)

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not code.isdigit():
            raise forms.ValidationError("The code must only include numbers")
        if len(code) != 6:
            raise forms.ValidationError("The code must be 6 numbers")
        return code


class RecoveryCodeForm(forms.Form):
    """One of the person's single-use recovery codes, instead of the app's code."""

    code = forms.CharField(
        label="Recovery code",
        help_text="One of the 10 codes you were given when you set up your authenticator app. "
        "Each code works once.",
        max_length=40,
        error_messages={"required": "Enter a recovery code"},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper(Field.text("code", field_width=Fixed.TEN), submit="Continue")

    def clean_code(self) -> str:
        return normalise_code(self.cleaned_data["code"])
