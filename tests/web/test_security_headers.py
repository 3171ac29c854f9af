"""Security headers (issue #7, point 30): a strict Content-Security-Policy with no inline script or
style left in any page, ``Cache-Control: no-store`` wherever personal data is shown, and the
documented production configuration passing ``check --deploy`` without a warning."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from xinfang.api.services import obtain_token

from ..factories import PASSWORD, register

# An inline handler (onclick=, onchange= …), a style attribute or element, a script without src.
INLINE = re.compile(r"""\son[a-z]+\s*=|\sstyle\s*=|<style[\s>]|<script(?![^>]*\ssrc=)[^>]*>""", re.IGNORECASE)


@pytest.fixture
def registration(world):
    return register(world.a.office, world.intake_a, world.a.township)


def _staff(client, user):
    client.force_login(user)
    return client


def _pages(client, world, registration):
    """Every kind of page: public, portal with a bound petition, staff of each area."""
    number, code = registration.petition.number, registration.query_code
    pages = {
        "portal home": client.get(reverse("portal:home")),
        "portal submit": client.get(reverse("portal:submit")),
        "portal track": client.get(reverse("portal:track")),
        "staff login": client.get(reverse("login")),
    }
    client.post(reverse("portal:track"), {"number": number, "code": code})
    pages["portal petition"] = client.get(reverse("portal:petition", args=[number]))
    _staff(client, world.intake_a)
    pages["queue"] = client.get(reverse("petitions:queue"))
    pages["register"] = client.get(reverse("petitions:register"))
    pages["detail"] = client.get(reverse("petitions:detail", args=[number]))
    _staff(client, world.sysadmin)
    pages["organisation tree"] = client.get(reverse("organisations:tree"))
    pages["categories"] = client.get(reverse("petitions:categories"))
    return pages


def test_pages_carry_a_strict_content_security_policy(client, world, registration):
    # when
    pages = _pages(client, world, registration)
    # then
    for name, response in pages.items():
        assert response.status_code == 200, name
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["default-src"] == "'self'", name
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", name
        assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'", name
        assert "unsafe" not in policy, name


def test_no_page_has_inline_scripts_handlers_or_styles(client, world, registration):
    """Regression: the language menu's onchange="this.form.submit()" in base.html, the portal's
    <style> block and style="…" attributes would be blocked by the policy (or force 'unsafe-inline')."""
    # when
    pages = _pages(client, world, registration)
    # then
    for name, response in pages.items():
        found = INLINE.findall(response.content.decode())
        assert not found, (name, found)


def test_templates_have_no_inline_scripts_handlers_or_styles():
    """The same on the template sources, so a page not rendered above cannot bring one back."""
    root = Path(__file__).resolve().parents[2] / "src" / "xinfang" / "templates"
    offenders = {
        str(path.relative_to(root)): INLINE.findall(path.read_text(encoding="utf-8"))
        for path in root.rglob("*.html")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_personal_data_is_never_stored_by_caches(client, world, registration):
    """Regression: staff pages, the staff API and the portal's tracking carried no Cache-Control."""
    # given
    number, code = registration.petition.number, registration.query_code
    token = obtain_token(username=world.intake_a.username, password=PASSWORD, ip="127.0.0.9").token
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    # when
    responses = {
        "api list": client.get("/api/v1/petitions", **auth),
        "api detail": client.get(f"/api/v1/petitions/{number}", **auth),
        "api track": client.post(
            f"/api/v1/portal/petitions/{number}/track", {"code": code}, content_type="application/json"
        ),
        "api refusal": client.get("/api/v1/petitions"),
        "portal track": client.post(reverse("portal:track"), {"number": number, "code": code}, follow=True),
    }
    _staff(client, world.intake_a)
    responses["queue"] = client.get(reverse("petitions:queue"))
    responses["detail"] = client.get(reverse("petitions:detail", args=[number]))
    # then
    for name, response in responses.items():
        assert "no-store" in response.get("Cache-Control", ""), name
        assert "private" in response["Cache-Control"], name


def test_public_pages_without_personal_data_stay_cacheable(client):
    # when
    home = client.get(reverse("portal:home"))
    schema = client.get("/api/v1/openapi.json")
    # then
    assert "no-store" not in home.get("Cache-Control", "")
    assert "no-store" not in schema.get("Cache-Control", "")


def test_the_documented_production_configuration_passes_check_deploy(tmp_path):
    """docs/deployment.md: the required variables, no DEBUG, nothing else.  HTTPS redirect, HSTS
    (with subdomains and preload) and secure cookies are then on by default: no warning at all."""
    # given: a clean environment with only the documented production variables
    env = {key: value for key, value in os.environ.items() if not key.startswith(("XINFANG_", "DJANGO_"))}
    env.pop("DEBUG", None)
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "xinfang.settings",
            "XINFANG_ENV_FILE": str(tmp_path / "none.env"),
            "XINFANG_VAR_DIR": str(tmp_path / "var"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "XINFANG_FIELD_KEYS": Fernet.generate_key().decode(),
            "XINFANG_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
            "XINFANG_AUDIT_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "xinfang.example.gov.cn",
            "CSRF_TRUSTED_ORIGINS": "https://xinfang.example.gov.cn",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
    )
    # when
    result = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "xinfang.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
