"""Evaluation as councils run it (issue 17; ADR 14).

* **The questionnaire** of an opportunity, built with it before publishing:
  ``Question`` (quality questions under a quality ``Criterion``, each with a
  weight within it, guidance, a word limit and the documents to attach; and
  pass/fail questions answered with the bid, never a pre-qualification
  stage: RULES.md section 3) and the **pricing schedule** (``PricingLine``:
  quantities the council sets, rates the supplier fills).
* **The supplier's answers** (``Answer``, ``PriceRate``; files per question
  are ``BidFile.question``): a draft (``revision`` empty) saved as they go,
  copied into each submitted version, sealed exactly as bids are.
* **The panel** (``PanelMember``): officers of the council, two or more
  evaluators, one of the members the moderator. Each declares conflicts of
  interest before seeing a bid; a declared conflict removes the member.
* **Independent marks** (``EvaluatorMark``), seen by nobody but their author
  until every evaluator has finished; then **moderation**
  (``ModeratedMark``, ``Moderation``) agrees one mark and comment per
  answer, with a reason where marks differed by more than the spread.
* **Intention to award** (``IntentionToAward``) and a voluntary standstill
  from the council's policy; a recorded ``Challenge`` pauses the award.

Marks are on the 0–5 scale councils use (``MARK_SCALE``); a criterion's
mark (``Score``, 0–100%) is the weighted sum of its questions' moderated
marks, so ranking, awards and outcome letters read ``Score`` as before.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenders.models.bids import Bid, BidRevision
from tenders.models.opportunities import Criterion, Lot, Opportunity
from tenders.models.policy import MONEY

# The marking scale, with what each mark means (shown to evaluators and in the report).
MARK_SCALE: dict[int, str] = {
    0: "Unacceptable: no answer, or it does not address the question",
    1: "Poor: major gaps or weaknesses",
    2: "Weak: some gaps or weaknesses",
    3: "Satisfactory: meets the requirement",
    4: "Good: meets it fully, with some added value",
    5: "Excellent: meets it fully, with evidence and added value",
}
TOP_MARK = max(MARK_SCALE)


class QuestionKind(models.TextChoices):
    QUALITY = "quality", "Quality (marked)"
    PASS_FAIL = "pass_fail", "Pass or fail"


class Question(models.Model):
    """One question of an opportunity's questionnaire, answered with the bid
    for each lot bid on."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    # A quality question belongs to a quality criterion; a pass/fail one to none.
    criterion = models.ForeignKey(
        Criterion, on_delete=models.CASCADE, null=True, blank=True, related_name="questions"
    )
    number = models.PositiveSmallIntegerField(default=0)  # its order in the questionnaire
    text = models.CharField(max_length=1000)
    guidance = models.TextField(blank=True)
    # Words allowed in the answer (None: no limit). The server enforces it.
    word_limit = models.PositiveIntegerField(null=True, blank=True)
    # A quality question's weight within its criterion (a criterion's questions total 100).
    weight = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    # The documents to attach with the answer, one per line ("Insurance certificate").
    documents = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["opportunity_id", "number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="quality") & Q(criterion__isnull=False))
                | (Q(kind="pass_fail") & Q(criterion__isnull=True) & Q(weight=0)),
                name="question_kind_matches_criterion",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0, weight__lte=100), name="question_weight_0_100"
            ),
            models.CheckConstraint(
                condition=Q(word_limit__isnull=True) | Q(word_limit__gte=1),
                name="question_word_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def document_names(self) -> list[str]:
        return [line.strip() for line in self.documents.splitlines() if line.strip()]


class PricingLine(models.Model):
    """A line of the pricing schedule: the council sets what and how many, the
    supplier fills the rate; the line's total is quantity × rate, to the penny."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="pricing_lines"
    )
    # The lot it prices (None: every lot).
    lot = models.ForeignKey(
        Lot, on_delete=models.CASCADE, null=True, blank=True, related_name="pricing_lines"
    )
    number = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    unit = models.CharField(max_length=50)  # "hour", "visit", "month"
    quantity = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["opportunity_id", "number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="pricing_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class Answer(models.Model):
    """A supplier's answer to a question in its bid for a lot: the draft
    (``revision`` empty), or as submitted in a version."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    revision = models.ForeignKey(
        BidRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="answers"
    )
    text = models.TextField(blank=True)
    # A pass/fail question's yes or no (None: not answered yet).
    confirmed = models.BooleanField(null=True, blank=True)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bid_id", "question_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bid", "question"],
                condition=Q(revision__isnull=True),
                name="answer_draft_once",
            ),
            models.UniqueConstraint(
                fields=["revision", "question"], name="answer_once_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.question_id} in bid {self.bid_id}"


class PriceRate(models.Model):
    """A supplier's rate for a pricing line, and the total the server computed."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="rates")
    line = models.ForeignKey(PricingLine, on_delete=models.PROTECT, related_name="rates")
    revision = models.ForeignKey(
        BidRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="rates"
    )
    rate = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    total = models.DecimalField(**MONEY)  # quantity × rate, half up to the penny (server-side)

    class Meta:
        ordering = ["bid_id", "line_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bid", "line"], condition=Q(revision__isnull=True), name="rate_draft_once"
            ),
            models.UniqueConstraint(fields=["revision", "line"], name="rate_once_per_version"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="rate_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Rate for {self.line_id} in bid {self.bid_id}"


class Declaration(models.TextChoices):
    PENDING = "", "Not declared yet"
    NONE = "none", "No conflict of interest"
    CONFLICT = "conflict", "Conflict of interest declared"


class PanelMember(models.Model):
    """An officer of the council on an opportunity's evaluation panel."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.PROTECT, related_name="panel")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Marks every answer independently (an evaluator), and/or agrees the moderated marks.
    evaluates = models.BooleanField(default=True)
    moderates = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    declaration = models.CharField(
        max_length=10, choices=Declaration.choices, default=Declaration.PENDING, blank=True
    )
    declaration_details = models.TextField(blank=True)  # with whom, and why (a conflict)
    declared_at = models.DateTimeField(null=True, blank=True)
    # Removed from the panel (a declared conflict, or by the officer with a reason).
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.TextField(blank=True)
    # The evaluator finished marking: the marks are final, and their SHA-256 is recorded.
    finished_at = models.DateTimeField(null=True, blank=True)
    marks_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["opportunity_id", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "officer"], name="panel_member_once"),
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=Q(moderates=True, removed_at__isnull=True),
                name="panel_one_moderator",
            ),
            models.CheckConstraint(
                condition=Q(evaluates=True) | Q(moderates=True), name="panel_member_has_a_role"
            ),
        ]

    def __str__(self) -> str:
        return f"Panel member {self.officer_id} of {self.opportunity_id}"


class EvaluatorMark(models.Model):
    """One evaluator's own mark and comment for one answer (a bid's answer to a
    question). Seen by nobody else until every evaluator has finished."""

    member = models.ForeignKey(PanelMember, on_delete=models.PROTECT, related_name="marks")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    mark = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(TOP_MARK)]
    )  # a quality question
    passed = models.BooleanField(null=True, blank=True)  # a pass/fail question
    comment = models.TextField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["member_id", "bid_id", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "bid", "question"], name="evaluator_mark_once"
            ),
            models.CheckConstraint(
                condition=Q(mark__isnull=True) | Q(mark__lte=TOP_MARK),
                name="evaluator_mark_on_the_scale",
            ),
            models.CheckConstraint(
                condition=Q(mark__isnull=False) | Q(passed__isnull=False),
                name="evaluator_mark_or_pass",
            ),
        ]

    def __str__(self) -> str:
        return f"Mark by {self.member_id} on {self.bid_id}/{self.question_id}"


class ModeratedMark(models.Model):
    """The agreed mark and comment for one answer: what the supplier reads."""

    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="moderated_marks")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    mark = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(TOP_MARK)]
    )
    passed = models.BooleanField(null=True, blank=True)
    comment = models.TextField()
    # Why, where the evaluators' marks differed by more than the spread.
    reason = models.TextField(blank=True)
    # The evaluators' marks as they stood when agreed ({member id: mark or pass}).
    evaluator_marks = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    moderated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bid_id", "question_id"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "question"], name="moderated_mark_once"),
            models.CheckConstraint(
                condition=Q(mark__isnull=True) | Q(mark__lte=TOP_MARK),
                name="moderated_mark_on_the_scale",
            ),
            models.CheckConstraint(
                condition=Q(mark__isnull=False) | Q(passed__isnull=False),
                name="moderated_mark_or_pass",
            ),
        ]

    def __str__(self) -> str:
        return f"Moderated mark on {self.bid_id}/{self.question_id}"


class Moderation(models.Model):
    """The panel's evaluation of an opportunity: the spread beyond which a
    moderated mark needs a reason, and when the moderator agreed it all (the
    criterion marks, ``Score``, and the pass/fail exclusions follow from it)."""

    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.PROTECT, related_name="moderation"
    )
    # Marks further apart than this (on the 0–5 scale) need a reason for the moderated mark.
    spread = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(TOP_MARK)])
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    agreed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Moderation of {self.opportunity_id}"


class IntentionToAward(models.Model):
    """The letters of intention to award a lot, and the standstill they start."""

    lot = models.OneToOneField(Lot, on_delete=models.PROTECT, related_name="intention")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="+")
    reasons = models.TextField()
    standstill_days = models.PositiveSmallIntegerField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)
    # The first moment the award may be made (midnight, UK time, after the last day).
    standstill_ends_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Intention to award lot {self.lot_id}"


class Challenge(models.Model):
    """A challenge to an intended award, recorded by an officer: while it is
    open (not resolved) no lot of the opportunity is awarded."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.PROTECT, related_name="challenges"
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="challenges"
    )
    details = models.TextField()  # who challenged, when it arrived, what it says
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opportunity_id", "recorded_at", "id"]

    def __str__(self) -> str:
        return f"Challenge {self.pk} to {self.opportunity_id}"
