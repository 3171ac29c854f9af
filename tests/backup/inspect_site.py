"""Prints what the backup test compares between a site and its restored copy, as JSON: every
petition's petitioners decrypted, every attachment decrypted and checked against its row's
SHA-256, and the audit rows in chain order."""

from __future__ import annotations

import hashlib
import json

import django

django.setup()

from xinfang.audit.models import AuditEvent  # noqa: E402
from xinfang.core.files import open_plaintext  # noqa: E402
from xinfang.petitions.models import Attachment, Petition, Petitioner  # noqa: E402


def main() -> None:
    petitioners: dict[str, list[list[str]]] = {}
    for person in Petitioner.objects.select_related("petition").order_by("petition__number", "position"):
        petitioners.setdefault(person.petition.number, []).append(
            [person.name, person.id_number or "", person.phone or "", person.address]
        )
    attachments = {}
    for item in Attachment.objects.select_related("petition").order_by("pk"):
        with open_plaintext(item.file) as reader:
            digest = hashlib.sha256(reader.read()).hexdigest()
        attachments[item.file.name] = [item.petition.number, digest == item.sha256]
    order = "seq" if any(f.name == "seq" for f in AuditEvent._meta.fields) else "id"
    audit = [[e.pk, e.action, e.object_id, e.object_repr] for e in AuditEvent.objects.order_by(order)]
    registered = {e[2] for e in audit if e[1] == "petition.register"}
    load = {
        p.number: [str(p.pk) in registered, p.attachments.count()]
        for p in Petition.objects.filter(title__startswith="备份负载测试")
    }
    print(json.dumps({"petitioners": petitioners, "attachments": attachments, "audit": audit, "load": load}))


if __name__ == "__main__":
    main()
