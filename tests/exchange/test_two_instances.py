"""Two Xinfang installations on loopback (issue #11 §4): a city refers a case to a county, the county
handles it and reports back with its report document, and the city sees the report.

Each site is a real server process (``xinfang runserver``) with its own SQLite file and its own
keys, set up by the operator's commands (``migrate``, ``exchange_bootstrap``, ``exchange_peer``);
deliveries are run synchronously with ``xinfang exchange_deliver`` against each database, as the
worker's periodic job would.  The sites always use SQLite files, whatever the suite's database, so
the PostgreSQL run is unaffected.  Everything started here is stopped in ``finally``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finish(process: subprocess.Popen, what: str) -> str:
    try:
        out, err = process.communicate(timeout=TIMEOUT * 5)  # a loaded machine migrates slowly
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, f"{what}: {err[-3000:]}"
    return out.strip()


def both(city_call: subprocess.Popen, county_call: subprocess.Popen) -> tuple[str, str]:
    """Two commands, one on each site, side by side (each process starts Django: seconds)."""
    return finish(city_call, "city"), finish(county_call, "county")


class Site:
    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "XINFANG_", "DJANGO_"))
        }
        self.env.update(
            DEBUG="1",
            XINFANG_ENV_FILE=os.devnull,
            DATABASE_URL=f"sqlite:///{tmp / f'{name}.sqlite3'}",
            SECRET_KEY=secrets.token_urlsafe(50),
            XINFANG_FIELD_KEYS=Fernet.generate_key().decode(),
            XINFANG_BLIND_INDEX_KEY=secrets.token_urlsafe(32),
            XINFANG_AUDIT_KEY=secrets.token_urlsafe(32),
            MEDIA_ROOT=str(tmp / f"{name}-media"),
            PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]),
            PYTHONUNBUFFERED="1",
        )
        self.log = tmp / f"{name}.log"
        self.server: subprocess.Popen | None = None

    def spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
            [sys.executable, "-m", "xinfang.cli", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> str:
        return finish(self.spawn(*args), f"{self.name} {args[0]}")

    def start(self) -> None:
        self.server = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "xinfang.cli", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_up(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert self.server is not None and self.server.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(10)

    def api(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def test_a_city_refers_a_case_to_a_county_which_reports_back(tmp_path):
    city, county = Site("city", tmp_path), Site("county", tmp_path)
    try:
        both(city.spawn("migrate", "--noinput"), county.spawn("migrate", "--noinput"))
        city_area = [
            "--area",
            "江城市人民政府",
            "--code",
            "420100",
            "--level",
            "city",
            "--office",
            "江城市信访局",
        ]
        county_area = [
            "--area",
            "青山县人民政府",
            "--code",
            "420101",
            "--level",
            "county",
            "--office",
            "青山县信访局",
        ]
        # the account each side gives the other, and each office's own staff account
        city_tokens, county_tokens = both(
            city.spawn(
                "exchange_bootstrap", *city_area, "--account", "county_link", "--account", "city_staff"
            ),
            county.spawn(
                "exchange_bootstrap",
                *county_area,
                "--account",
                "city_link",
                "--account",
                "county_staff:intake,supervisor,leader",
            ),
        )
        county_at_city, city_staff = city_tokens.split()
        city_at_county, county_staff = county_tokens.split()
        peer_id, _ = both(
            city.spawn(
                "exchange_peer",
                "青山县信访局",
                "--url",
                county.url,
                "--token",
                city_at_county,
                "--account",
                "county_link",
            ),
            county.spawn(
                "exchange_peer",
                "江城市信访局",
                "--url",
                city.url,
                "--token",
                county_at_city,
                "--account",
                "city_link",
            ),
        )
        peer_id = int(peer_id)
        city.start()
        county.start()
        city.wait_up()
        county.wait_up()

        # the city registers a petition and refers it to the county
        status, petition = city.api(
            "POST",
            "/api/v1/petitions",
            city_staff,
            {
                "channel": "letter",
                "purpose": "complaint",
                "received_on": dt.date.today().isoformat(),
                "title": "青山县某厂拖欠工资",
                "content": "请求支付2026年拖欠的工资。",
                "category": "0201",
                "locality": "420100",
                "petitioners": [{"name": "王小明", "phone": "13800138000"}],
            },
        )
        assert status == 201, petition
        number = petition["number"]
        due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        status, sent = city.api(
            "POST", "/api/v1/referrals/sent", city_staff, {"number": number, "peer": peer_id, "due_on": due}
        )
        assert status == 201 and sent["status"] == "sent", sent
        assert city.run("exchange_deliver", "--now") == "1"
        status, sent = city.api("GET", f"/api/v1/referrals/sent/{sent['id']}", city_staff)
        assert sent["status"] == "received" and sent["remote_number"], sent

        # the county has the petition with the city's case number and deadline
        status, received = county.api("GET", "/api/v1/referrals/received", county_staff)
        assert status == 200 and len(received) == 1, received
        assert received[0]["upper_case_number"] == number and received[0]["upper_due_on"] == due
        assert received[0]["number"] == sent["remote_number"]
        local = received[0]["number"]

        # it handles it: accepts, then issues the report document, which queues the report
        status, accepted = county.api("POST", f"/api/v1/petitions/{local}/actions/accept", county_staff, {})
        assert status == 200, accepted
        reference = county.run(
            "exchange_report",
            local,
            "--user",
            "county_staff",
            "--process",
            "已约谈企业负责人。",
            "--result",
            "企业已于12月1日支付全部工资。",
        )
        assert reference
        assert county.run("exchange_deliver", "--now") == "1"

        # the city sees the report on its referral, with the document's number and its DOCX
        status, sent = city.api("GET", f"/api/v1/referrals/sent/{sent['id']}", city_staff)
        assert sent["status"] == "reported", sent
        assert "企业已于12月1日支付全部工资" in sent["report_text"] and sent["report_number"] == reference
        assert sent["report_file_name"].endswith(".docx")

        # the city accepts the report; the county learns it
        status, done = city.api("POST", f"/api/v1/referrals/sent/{sent['id']}/accept", city_staff)
        assert status == 200 and done["status"] == "accepted", done
        assert city.run("exchange_deliver", "--now") == "1"
        status, received = county.api("GET", "/api/v1/referrals/received?open_only=false", county_staff)
        assert received[0]["status"] == "accepted", received
    finally:
        city.stop()
        county.stop()
