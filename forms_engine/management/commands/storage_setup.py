"""Prepare the S3 bucket for direct upload: create it if missing and set its CORS rules
(PUT and GET from the site's origins, the ETag header exposed: the browser reads each part's
ETag to complete the upload). Safe to run again; run it at deploy time."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from forms_engine import storage


class Command(BaseCommand):
    help = "Create the S3 bucket if missing and set its CORS rules for direct upload."

    def add_arguments(self, parser):
        parser.add_argument(
            "--origin",
            action="append",
            dest="origins",
            help="an origin allowed to upload (repeatable); default: DIRECT_UPLOAD_ORIGINS",
        )

    def handle(self, *args, origins=None, **options):
        store = storage.object_store()
        if not store.supports_direct_upload:
            raise CommandError(
                "no S3 bucket configured (AWS_STORAGE_BUCKET_NAME): nothing to set up"
            )
        origins = [o.rstrip("/") for o in (origins or settings.DIRECT_UPLOAD_ORIGINS) if o]
        try:
            store.bucket_ensure(cors_origins=origins)  # type: ignore[attr-defined]
        except storage.StorageError as exc:
            raise CommandError(f"the bucket could not be set up: {exc}") from exc
        self.stdout.write(
            f"bucket {settings.AWS_STORAGE_BUCKET_NAME}: CORS allows PUT from {', '.join(origins)}"
        )
