"""The Common Procurement Vocabulary 2008: reference data shared by suppliers
and tenders, loaded from ``cpv/data/cpv2008.csv`` by ``manage.py load_cpv``."""

from __future__ import annotations

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
