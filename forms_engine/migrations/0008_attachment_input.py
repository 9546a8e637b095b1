"""The page and file input an attachment was attached through (a direct upload joins that
input's answer when it is completed)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forms_engine", "0007_attachment_status_and_direct_upload"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="page_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="attachment",
            name="input_name",
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
