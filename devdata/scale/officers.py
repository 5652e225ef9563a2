"""Officers of a batch: the demo council's own, and as many more as the sizes ask
(each in a department, without a usable password: they act only in the data).
"""

from __future__ import annotations

from devdata.scale.batch import Batch
from devdata.scale.shapes import UNUSABLE_PASSWORD
from portal.identity import normalise_email
from portal.models import Role, User


def make_officers(batch: Batch) -> None:
    """Bring the council's active officers up to ``sizes.officers``; set the batch's officers."""
    w = batch.writer
    existing = list(
        User.objects.filter(buyer=batch.buyer, role=Role.OFFICER, is_active=True)
        .order_by("pk")
        .values_list("pk", "email")
    )
    wanted = max(0, batch.sizes.officers - len(existing))
    first = w.reserve(User, wanted)
    taken = User.objects.filter(email__startswith="officer.scale").count()
    rows = []
    for i in range(wanted):
        email = f"officer.scale{taken + i + 1:03d}@demo-council.example"
        rows.append(
            (
                first + i,
                UNUSABLE_PASSWORD,
                email,
                normalise_email(email),
                batch.person(),
                Role.OFFICER,
                batch.buyer.pk,
                batch.rng.choice(batch.departments)[0],
                batch.start,
                True,
                batch.start,
            )
        )
        existing.append((first + i, email))
    w.insert(
        User,
        [
            "id",
            "password",
            "email",
            "email_key",
            "full_name",
            "role",
            "buyer_id",
            "department_id",
            "email_verified_at",
            "is_active",
            "date_joined",
        ],
        rows,
    )
    batch.officers = existing
