"""Writes to a demo site until told to stop (``python load.py STOP_FILE PROGRESS_FILE``): the
"site under load" of the backup test.  Each loop registers one petition with a petitioner and
an attachment, all in the one transaction of register_petition (with its audit row)."""

from __future__ import annotations

import datetime as dt
import io
import os
import sys

import django

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from PIL import Image  # noqa: E402

from xinfang.organisations.choices import Level  # noqa: E402
from xinfang.organisations.models import Organisation, User  # noqa: E402
from xinfang.petitions.drafts import PetitionDraft, PetitionerDraft  # noqa: E402
from xinfang.petitions.models import Category  # noqa: E402
from xinfang.petitions.services import register_petition  # noqa: E402
from xinfang.petitions.validators import id_check_digit  # noqa: E402


def main(stop: str, progress: str) -> None:
    clerk = User.objects.get(username="intake")
    office = clerk.organisation
    locality = Organisation.objects.filter(path__startswith=office.parent.path, level=Level.TOWNSHIP).first()
    category = Category.objects.filter(parent__isnull=False).order_by("code").first()
    picture = io.BytesIO()
    Image.new("RGB", (24, 16), (90, 120, 150)).save(picture, "PNG")
    done = 0
    while not os.path.exists(stop):
        first17 = f"330102{dt.date(1970, 1, 1) + dt.timedelta(days=done):%Y%m%d}{done % 1000:03d}"
        draft = PetitionDraft(
            channel="letter",
            purpose="complaint",
            title=f"备份负载测试第{done}件",
            content="小区供水长期不正常，物业和供水公司互相推诿，请求协调解决。",
            category_id=category.pk,
            locality_id=locality.pk,
            received_on=dt.date.today(),  # noqa: DTZ011 (the site's local date is fine here)
            petitioners=[
                PetitionerDraft(
                    name="王五",
                    id_number=first17 + id_check_digit(first17),
                    phone=f"139{done:08d}",
                    address=f"幸福路{done}号",
                )
            ],
            attachments=[SimpleUploadedFile(f"scan{done}.png", picture.getvalue())],
        )
        register_petition(draft=draft, office=office, actor=clerk, public=False)
        done += 1
        with open(progress, "w") as out:
            out.write(str(done))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
