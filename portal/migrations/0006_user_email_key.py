"""Each account's email address as compared (``User.email_key``), filled in
for the accounts already there; made unique in the next migration.

The normalisation is copied here (NFKC, case-folded, NFKC again: see
``portal.identity.normalise_email``) so that this migration keeps meaning
what it meant when it was written.
"""

import unicodedata
from collections import defaultdict

from django.db import migrations, models


def _normalise(value):
    text = unicodedata.normalize("NFKC", (value or "").strip())
    return unicodedata.normalize("NFKC", text.casefold())


def fill(apps, schema_editor):
    User = apps.get_model("portal", "User")
    owners = defaultdict(list)
    for pk, email in User.objects.values_list("pk", "email").iterator():
        owners[_normalise(email)].append(pk)
    shared = {key: pks for key, pks in owners.items() if len(pks) > 1}
    if shared:
        named = "; ".join(f"{key}: users {', '.join(map(str, pks))}" for key, pks in shared.items())
        raise RuntimeError(
            "These accounts have email addresses that read the same once normalised; change all "
            f"but one of each before migrating: {named}"
        )
    for key, (pk,) in owners.items():
        User.objects.filter(pk=pk).update(email_key=key)


class Migration(migrations.Migration):
    dependencies = [("portal", "0005_audit_hash_chain")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=254, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
