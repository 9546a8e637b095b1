"""What the payment staff commands share: finding the submission and the acting user."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from forms_engine import models as fm


def add_common(parser: CommandParser) -> None:
    parser.add_argument("number", help="the submission's number (its receipt number)")
    parser.add_argument("amount", type=int, help="yen, a whole number")
    parser.add_argument("--staff", default="", help="the username of the member of staff")


def submission_get(number: str) -> fm.Submission:
    sub = fm.Submission.objects.filter(number=number.strip().upper()).first()
    if sub is None:
        raise CommandError("no such submission")
    return sub


def actor_id(username: str) -> int | None:
    if not username:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError("no such user")
    return int(user.pk)
