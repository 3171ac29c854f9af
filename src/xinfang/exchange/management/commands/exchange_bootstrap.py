"""``xinfang exchange_bootstrap``: the operator's set-up of one side of an exchange on a site.

Creates (if missing) the government area and its petition office, a system account of that office
(roles intake and supervisor: it registers referrals received and may refer and read) and prints a
fresh API token for it once.  Run it once per account, e.g. on a county for the account the city
will use, then enter that token on the city as the county peer's token (``exchange_peer``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from xinfang.api.services import issue_token
from xinfang.organisations.choices import Level, OrganisationKind, RoleCode
from xinfang.organisations.models import Organisation, Role, User
from xinfang.organisations.services import create_organisation


class Command(BaseCommand):
    help = "Create an area, its petition office and a system account with a token (printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="government name, e.g. 青山县人民政府")
        parser.add_argument("--code", required=True, help="administrative area code, e.g. 330101")
        parser.add_argument(
            "--level", required=True, choices=[lv for lv in Level.values if lv != Level.NATIONAL]
        )
        parser.add_argument("--office", required=True, help="petition office name, e.g. 青山县信访局")
        parser.add_argument(
            "--account",
            required=True,
            action="append",
            help="a system account: USERNAME or USERNAME:role,role (default intake,supervisor); repeatable",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            area = _organisation(
                options["area"], options["code"], OrganisationKind.GOVERNMENT, options["level"], None
            )
            office = _organisation(
                options["office"], "", OrganisationKind.PETITION_OFFICE, options["level"], area
            )
            users = [_account(spec, office) for spec in options["account"]]
        for user in users:  # one token per account, one a line, in the order given
            self.stdout.write(issue_token(user=user, name=f"exchange {user.username}", actor=None).token)
        self.stderr.write(f"office {office.pk} {office.name}")


def _account(spec: str, office: Organisation) -> User:
    username, _sep, roles = spec.partition(":")
    user, _created = User.objects.get_or_create(
        username=username, defaults={"organisation": office, "is_system_account": True, "full_name": username}
    )
    user.set_unusable_password()
    user.save()
    codes = [c.strip() for c in (roles or "intake,supervisor").split(",") if c.strip()]
    user.roles.set(Role.objects.filter(code__in=[RoleCode(c) for c in codes]))
    return user


def _organisation(name: str, code: str, kind: str, level: str, parent: Organisation | None) -> Organisation:
    found = Organisation.objects.filter(name=name, parent=parent).first()
    if found is not None:
        return found
    return create_organisation(name=name, code=code, kind=kind, level=level, parent=parent)
