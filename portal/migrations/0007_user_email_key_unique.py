from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0006_user_email_key")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=254, unique=True),
        ),
    ]
