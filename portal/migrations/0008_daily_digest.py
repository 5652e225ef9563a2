from django.db import migrations, models


def nobody_chose_yet(apps, schema_editor):
    """Until now the preference sent nothing: nobody has chosen the digest yet."""
    apps.get_model("portal", "User").objects.update(email_digests=False)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_user_email_key_unique"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email_digests",
            field=models.BooleanField(
                default=False,
                help_text="Each morning, the messages in your inbox from the day before that you have not read yet.",
                verbose_name="email me a daily digest",
            ),
        ),
        migrations.RunPython(nobody_chose_yet, migrations.RunPython.noop),
    ]
