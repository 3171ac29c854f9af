"""The English catalogue: complete, compiled, current, and actually used by the pages."""

from __future__ import annotations

import gettext
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

import xinfang
from xinfang.petitions.choices import Channel, Purpose
from xinfang.petitions.validators import check_id_number

from ..factories import PASSWORD

SOURCE = Path(xinfang.__file__).resolve().parent
LC_MESSAGES = SOURCE / "locale" / "en" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# Names of languages stay in their own script, so that a reader can always find the way back.
NATIVE_NAMES = {"简体中文"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


# --- a small .po reader (no third-party dependency) ----------------------------------------------


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[k] for k in sorted(self.msgstr)]


def _unquote(text: str) -> str:
    assert text.startswith('"') and text.endswith('"'), text
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text[1:-1])


def read_po(path: Path) -> list[Entry]:
    """Every entry of ``path`` except the header; obsolete (``#~``) entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    key: tuple[str, int] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (\".*\")$", line):
            name, index = match[1], int(match[2] or 0)
            key = (name, index)
            _append(entry, key, _unquote(match[3]), start=True)
        elif line.startswith('"') and key is not None:
            _append(entry, key, _unquote(line), start=False)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    return [e for e in entries if e.msgid]


def _append(entry: Entry, key: tuple[str, int], text: str, *, start: bool) -> None:
    name, index = key
    if name == "msgctxt":
        entry.msgctxt = text if start else (entry.msgctxt or "") + text
    elif name == "msgid":
        entry.msgid = text if start else entry.msgid + text
    elif name == "msgid_plural":
        entry.msgid_plural = text if start else (entry.msgid_plural or "") + text
    elif name == "msgstr":
        entry.msgstr[index] = text if start else entry.msgstr.get(index, "") + text


def untranslated(entries: list[Entry]) -> list[str]:
    return [
        f"line {e.line}: {e.msgid!r}" + (" (fuzzy)" if "fuzzy" in e.flags else "")
        for e in entries
        if "fuzzy" in e.flags or not e.msgstr or not all(e.translations)
    ]


# --- the catalogue itself -------------------------------------------------------------------------


def test_catalogue_is_complete_and_not_fuzzy():
    entries = read_po(PO)
    assert len(entries) > 200
    assert untranslated(entries) == []
    header = PO.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert "#, fuzzy" not in header
    assert '"Language: en\\n"' in header
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header


def test_catalogue_plurals_have_both_english_forms():
    plurals = [e for e in read_po(PO) if e.msgid_plural is not None]
    assert plurals
    for e in plurals:
        assert sorted(e.msgstr) == [0, 1], e.msgid


def test_translations_keep_placeholders_and_use_english_text():
    problems = []
    for e in read_po(PO):
        expected = sorted(PLACEHOLDER.findall(e.msgid))
        for text in e.translations:
            if sorted(PLACEHOLDER.findall(text)) != expected:
                problems.append(f"placeholders differ: {e.msgid!r} -> {text!r}")
            if CJK.search(text) and text not in NATIVE_NAMES:
                problems.append(f"Chinese text or full-width punctuation left: {e.msgid!r} -> {text!r}")
    assert problems == []


def test_glossary_terms():
    translations = {e.msgid: e.translations[0] for e in read_po(PO)}
    glossary = {
        "信访人": "Petitioner",
        "信访编号": "Petition number",
        "查询码": "Query code",
        "问题属地": "Locality",
        "被反映人/单位": "Subject of complaint",
        "集体访": "Collective visit",
        "重复信访": "Repeat petition",
        "登记员": "Intake clerk",
        "承办人": "Handler",
        "督办员": "Supervisor",
        "责任单位": "Responsible unit",
        "信访工作机构": "Petition office",
    }
    assert {k: translations.get(k) for k in glossary} == glossary


def test_compiled_catalogue_matches_the_po_file():
    """The .mo is committed (installs need no gettext); it must be compiled from the current .po."""
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in read_po(PO):
        if e.msgctxt is not None:
            if compiled.pgettext(e.msgctxt, e.msgid) != e.msgstr[0]:
                stale.append(e.msgid)
        elif e.msgid_plural is None:
            if compiled.gettext(e.msgid) != e.msgstr[0]:
                stale.append(e.msgid)
        elif [compiled.ngettext(e.msgid, e.msgid_plural, n) for n in (1, 2)] != e.translations:
            stale.append(e.msgid)
    assert stale == [], "run compilemessages"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext (xgettext, msgmerge)")
def test_catalogue_covers_every_string_in_the_source(tmp_path, monkeypatch):
    """Re-run makemessages on a copy of the source: a new or changed string must already be translated."""
    copy = tmp_path / "xinfang"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo"))
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)
    fresh = read_po(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    committed = {e.msgid for e in read_po(PO)}
    assert untranslated(fresh) == [], "run makemessages -l en --no-obsolete, translate, compilemessages"
    assert {e.msgid for e in fresh} == committed, "obsolete entries: run makemessages --no-obsolete"


# --- the catalogue in use ------------------------------------------------------------------------


def english_page(client, url: str) -> str:
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    return html


def without_language_switch(html: str) -> str:
    return re.sub(r'<form[^>]*class="[^"]*lang-switch.*?</form>', "", html, flags=re.S)


@pytest.mark.django_db
def test_portal_home_in_english(client):
    html = english_page(client, reverse("portal:home"))
    for text in ("Online petition", "Submit a petition", "Track a petition", "Staff login"):
        assert text in html
    assert "Regulations on Petition Work" in html
    assert CJK.findall(without_language_switch(html)) == []
    assert "简体中文" in html  # the way back


@pytest.mark.django_db
def test_staff_login_in_english(client):
    html = english_page(client, reverse("login"))
    for text in ("Staff login", "Username", "Password", "Log in", "Online petition portal for the public"):
        assert text in html
    assert CJK.findall(without_language_switch(html)) == []


@pytest.mark.django_db
def test_failed_login_message_in_english(client):
    english_page(client, reverse("login"))
    html = client.post(reverse("login"), {"username": "nobody", "password": "wrong"}).content.decode()
    assert 'id="login-error"' in html
    assert "Please enter a correct username and password" in html
    assert CJK.findall(without_language_switch(html)) == []


@pytest.mark.django_db
def test_portal_track_form_in_english(client):
    html = english_page(client, reverse("portal:track"))
    for text in ("Petition number", "Query code", "Search"):
        assert text in html
    assert CJK.findall(without_language_switch(html)) == []


@pytest.mark.django_db
def test_portal_submit_form_help_texts_in_english(client):
    html = english_page(client, reverse("portal:submit"))
    assert "Up to" in html and "10 MB each" in html
    assert "单个不超过" not in html


def test_staff_work_queue_in_english(client, world):
    assert client.login(username=world.intake_a.username, password=PASSWORD)
    html = english_page(client, reverse("petitions:queue"))
    for text in ("Work queue", "Registration", "Petition number", "Petitioner", "Locality", "Status"):
        assert text in html
    for label in ("工作台", "信访编号", "信访人", "属地", "状态", "筛选", "退出"):
        assert label not in html


def test_api_token_page_in_english(client, world):
    assert client.login(username=world.secadmin.username, password=PASSWORD)
    html = english_page(client, reverse("api-staff:tokens"))
    # the form asks for a token; a second administrator approves it (issue #7 point 16)
    for text in ("API tokens", "Request a token for a system account", "Valid for (days)", "No tokens yet."):
        assert text in html
    for label in ("接口令牌", "签发", "有效天数", "暂无令牌", "退出"):  # data such as unit names stay Chinese
        assert label not in html


def test_choices_and_validation_messages_in_english():
    with translation.override("en"):
        assert str(Channel.VISIT.label) == "Visit"
        assert str(Channel.ONLINE.label) == "Online petition"
        assert str(Purpose.COMPLAINT.label) == "Complaint"
        with pytest.raises(ValidationError, match="ID card number") as excinfo:
            check_id_number("123")
        assert not CJK.search(" ".join(excinfo.value.messages))
