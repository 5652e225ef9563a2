"""The auditors' own record: which flags they reviewed, with a note.

Transparency reads the council's records and changes none of them; a review
is the auditor's own note about a flag, kept beside it (and audited)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from portal.models import BuyerOrganisation, User


class FlagReview(models.Model):
    """An auditor looked at a flag and wrote what they found. A flag is one
    council's flag kind (``transparency.flags.kinds``, by key) and the record
    it flags (``FlagRow.record_id``). A flag may be reviewed again; the
    latest review is shown first."""

    buyer = models.ForeignKey(BuyerOrganisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=50)
    record_id = models.BigIntegerField()
    note = models.TextField()
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "kind", "record_id"], name="flag_review_flag"),
        ]

    def __str__(self) -> str:
        return f"Review of flag {self.kind} #{self.record_id}"
