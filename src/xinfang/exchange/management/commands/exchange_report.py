"""``xinfang exchange_report <petition number> --user … --process … --result …``: draft and issue
the report back on a referral received (the staff page's two steps in one, for an operator or a
script).  Issuing queues the delivery to the upper level."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinfang.exchange import services
from xinfang.exchange.models import Referral
from xinfang.organisations.models import User


class Command(BaseCommand):
    help = "Draft and issue the 上级交办事项办理情况报告 of a referral received."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="our petition number")
        parser.add_argument("--user", required=True)
        parser.add_argument("--process", required=True)
        parser.add_argument("--result", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        referral = (
            Referral.objects.filter(petition__number=options["number"]).select_related("petition").first()
        )
        if user is None or referral is None:
            raise CommandError("unknown user or referral")
        try:
            report = services.draft_report(
                user=user, referral=referral, process=options["process"], result=options["result"]
            )
            report = services.issue_report(user=user, report=report)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(report.document_number)
