"""``POST /api/v1/petitions/{number}/attachments``: multipart upload, scoped, all or nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xinfang.audit.models import AuditEvent
from xinfang.petitions.models import Attachment

from ..factories import PDF_BYTES, PNG_BYTES, register

PNG = PNG_BYTES  # real files: uploads are checked as whole containers (issue #7 point 27)
PDF = PDF_BYTES


@pytest.fixture
def petition(world):
    return register(world.a.office, world.intake_a, world.a.township).petition


def upload(api, number, files, token):
    return api.client.post(
        f"/api/v1/petitions/{number}/attachments", {"files": files}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_clerk_uploads_scans_and_they_appear_on_the_petition(
    world, api, token_of, petition, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = str(tmp_path)
    files = [SimpleUploadedFile("scan.png", PNG), SimpleUploadedFile("letter.pdf", PDF)]
    # when
    response = upload(api, petition.number, files, token_of(world.intake_a))
    # then
    assert response.status_code == 201, response.content
    assert [a["name"] for a in response.json()] == ["scan.png", "letter.pdf"]
    assert petition.attachments.count() == 2
    detail = api.get(f"/api/v1/petitions/{petition.number}", token=token_of(world.intake_a)).json()
    assert {a["name"] for a in detail["attachments"]} == {"scan.png", "letter.pdf"}
    assert AuditEvent.objects.filter(action="petition.attachments_add").count() == 1


def test_one_bad_file_stores_nothing(world, api, token_of, petition, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    files = [SimpleUploadedFile("scan.png", PNG), SimpleUploadedFile("fake.pdf", b"MZ not a pdf")]
    response = upload(api, petition.number, files, token_of(world.intake_a))
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "attachment_refused" and "attachments" in body["fields"]  # issue #7 point 27
    assert not Attachment.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_out_of_scope_is_404_and_wrong_role_403(world, api, token_of, petition, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    files = [SimpleUploadedFile("scan.png", PNG)]
    assert upload(api, petition.number, files, token_of(world.intake_b)).status_code == 404
    files = [SimpleUploadedFile("scan.png", PNG)]
    assert upload(api, petition.number, files, token_of(world.supervisor_a)).status_code == 403
    assert not Attachment.objects.exists()


def test_limit_counts_attachments_already_there(world, api, token_of, petition, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    token = token_of(world.intake_a)
    assert (
        upload(
            api, petition.number, [SimpleUploadedFile(f"{i}.png", PNG) for i in range(8)], token
        ).status_code
        == 201
    )
    response = upload(api, petition.number, [SimpleUploadedFile(f"x{i}.png", PNG) for i in range(3)], token)
    assert response.status_code == 422
    assert "最多 10 个附件" in response.json()["error"]["fields"]["attachments"][0]
    assert petition.attachments.count() == 8


def test_a_program_packed_as_docx_is_refused_with_a_stable_code(
    world, api, token_of, petition, settings, tmp_path
):
    """Issue #7 point 27: the whole container is checked; the API answers attachment_refused."""
    import io
    import zipfile

    settings.MEDIA_ROOT = str(tmp_path)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("setup.exe", b"MZ\x90\x00" + b"\x00" * 100)
    files = [SimpleUploadedFile("合同.docx", packed.getvalue())]
    response = upload(api, petition.number, files, token_of(world.intake_a))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "attachment_refused"
    assert "可执行程序" in error["fields"]["attachments"][0]
    assert not Attachment.objects.exists()
