"""Attachments get a lifecycle (uploading, quarantined, clean, infected, not_scanned,
refused) in place of scan_status, the multipart upload id of a direct upload, and the scan's
time and detail. Keys of new files are random under quarantine/."""

from django.db import migrations, models

# scan_status -> status
_FORWARD = {"pending": "quarantined", "clean": "clean", "infected": "infected"}
_BACKWARD = {"quarantined": "pending", "uploading": "pending", "clean": "clean",
             "not_scanned": "pending", "infected": "infected", "refused": "infected"}


def forward(apps, schema_editor):
    Attachment = apps.get_model("forms_engine", "Attachment")
    for old, new in _FORWARD.items():
        Attachment.objects.filter(scan_status=old).update(status=new)


def backward(apps, schema_editor):
    Attachment = apps.get_model("forms_engine", "Attachment")
    for new, old in _BACKWARD.items():
        Attachment.objects.filter(status=new).update(scan_status=old)


class Migration(migrations.Migration):
    dependencies = [
        ("forms_engine", "0006_receipt_mail_retry_with_backoff"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="status",
            field=models.CharField(
                choices=[
                    ("uploading", "Uploading"),
                    ("quarantined", "Waiting for the malware scan"),
                    ("clean", "Scanned: no malware found"),
                    ("infected", "Malware found: removed"),
                    ("not_scanned", "Not scanned for malware"),
                    ("refused", "Refused"),
                ],
                db_index=True,
                default="quarantined",
                max_length=16,
            ),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField(model_name="attachment", name="scan_status"),
        migrations.AddField(
            model_name="attachment",
            name="upload_id",
            field=models.CharField(blank=True, max_length=1024),
        ),
        migrations.AddField(
            model_name="attachment",
            name="scanned_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="attachment",
            name="scan_detail",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="sha256",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="kind",
            field=models.CharField(blank=True, max_length=16),
        ),
    ]
