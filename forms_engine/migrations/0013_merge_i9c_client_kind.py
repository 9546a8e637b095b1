# Joins i9c's client_kind (0010_submission_client_kind, after the review workflow's 0010)
# to the other 0010s as merged by i9a and i9b.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('forms_engine', '0010_submission_client_kind'),
        ('forms_engine', '0012_merge_review_workflow'),
    ]

    operations = [
    ]
