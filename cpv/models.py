"""The Common Procurement Vocabulary 2008: reference data shared by suppliers
and tenders, loaded from ``cpv/data/cpv2008.csv`` by ``manage.py load_cpv``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length

from cpv import rules


class CpvCode(models.Model):
    """One code of the CPV 2008 main vocabulary, as the official list gives it."""

    # With its check digit, as published: "45000000-7". Check digits come from
    # the list only; see cpv/data/README.md for why they are never computed.
    code = models.CharField("CPV code", max_length=10, primary_key=True)
    digits = models.CharField(max_length=8, unique=True)
    description = models.CharField(max_length=255)
    # Significant digits: 2 division, 3 group, 4 class, 5 category, 6-8 below.
    level = models.PositiveSmallIntegerField()
    # The significant digits; a code's descendants are the codes whose digits
    # (or prefix) start with it.
    prefix = models.CharField(max_length=8, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["digits"]
        verbose_name = "CPV code"
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=rules.DIVISION_DIGITS, level__lte=rules.DIGITS),
                name="cpv_level_2_to_8",
            ),
            models.CheckConstraint(condition=Q(level=Length("prefix")), name="cpv_level_is_prefix"),
            models.CheckConstraint(
                condition=Q(digits__startswith=F("prefix")), name="cpv_prefix_starts_digits"
            ),
            models.CheckConstraint(
                condition=Q(code__startswith=F("digits")), name="cpv_code_starts_with_digits"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, level=rules.DIVISION_DIGITS)
                | Q(parent__isnull=False, level__gt=rules.DIVISION_DIGITS),
                name="cpv_parent_unless_division",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @property
    def check_digit(self) -> str:
        return self.code[-1]

    @property
    def level_name(self) -> str:
        return rules.level_name(self.level)


class CpvSynonym(models.Model):
    """A word or phrase people type that means a CPV code ("grass cutting" →
    77314100-5 Grassing services).

    The portal ships a list (``cpv/data/synonyms.csv``, loaded by ``manage.py
    load_cpv``) with no council; a council adds its own words in the admin,
    and those are searched only by that council's people.
    """

    buyer = models.ForeignKey(
        "portal.BuyerOrganisation",
        on_delete=models.CASCADE,
        related_name="cpv_synonyms",
        null=True,
        blank=True,
        verbose_name="council",
        help_text="Leave blank only for the portal's own list (loaded from "
        "cpv/data/synonyms.csv, which replaces those on every load).",
    )
    term = models.CharField(
        max_length=100, help_text="What people type, for example: grass cutting"
    )
    # rules.synonym_key(term), kept in step by save(): what search compares.
    words = models.CharField(max_length=120, editable=False, db_index=True)
    code = models.ForeignKey(
        CpvCode, on_delete=models.CASCADE, related_name="synonyms", verbose_name="CPV code"
    )

    class Meta:
        ordering = ["term", "code"]
        verbose_name = "CPV synonym"
        constraints = [
            models.UniqueConstraint(
                fields=["words", "code"],
                condition=Q(buyer__isnull=True),
                name="cpv_synonym_unique_shipped",
            ),
            models.UniqueConstraint(
                fields=["buyer", "words", "code"],
                condition=Q(buyer__isnull=False),
                name="cpv_synonym_unique_per_council",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.code_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.words = rules.synonym_key(self.term)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "term" in update_fields:
            kwargs["update_fields"] = {*update_fields, "words"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if not rules.synonym_key(self.term):
            raise ValidationError({"term": "Enter a word or phrase, like grass cutting"})
