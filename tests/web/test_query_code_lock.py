"""The query code's throttle and lock (issue #7, point 29).

* The per-address failure throttle is atomic: 40 simultaneous wrong codes from one address let
  exactly the allowance (5) be compared, not 10 or 40 (threads on PostgreSQL).
* Wrong codes from any addresses lock the number after ``XINFANG_QUERY_CODE_MAX_FAILURES``: the
  right code is refused too, with the same 404 as a wrong code and a message pointing to the office.
* The office reissues the code (staff action, audited): the old code stops working, the lock ends,
  the new code is shown once.
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from xinfang.audit.models import AuditEvent
from xinfang.core import counters
from xinfang.core.throttle import Throttled
from xinfang.petitions.query_codes import reissue_query_code
from xinfang.portal.services import QueryCodeLocked, TrackingFailed, find_petition

from ..factories import register

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
LOCKED_TEXT = "重新获取查询码"


@pytest.fixture
def registration(world):
    return register(world.a.office, world.intake_a, world.a.township)


def _track_api(client, number: str, code: str, ip: str):
    return client.post(
        f"/api/v1/portal/petitions/{number}/track",
        {"code": code},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@override_settings(XINFANG_PORTAL_TRACK_FAILURE_RATE="5/900", XINFANG_QUERY_CODE_MAX_FAILURES=1000)
def test_forty_simultaneous_wrong_codes_from_one_address_compare_exactly_five(world, registration):
    """Regression: the check-then-count throttle on the (non-atomic) database cache let 10 through."""
    # given
    number = registration.petition.number
    barrier = threading.Barrier(40)
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        try:
            barrier.wait()
            try:
                find_petition(number=number, code=f"WRONG-{i:04d}", ip="203.0.113.7")
            except Throttled:
                result = "throttled"
            except TrackingFailed:
                result = "compared"
            else:
                result = "found"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert len(outcomes) == 40
    assert outcomes.count("compared") == 5
    assert outcomes.count("throttled") == 35


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: concurrent connections")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_increments_of_one_counter_are_all_counted():
    # given
    barrier = threading.Barrier(30)
    results: list[int] = []

    def bump() -> None:
        try:
            barrier.wait()
            results.append(counters.increment("test-counter", ttl=60))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=bump) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then
    assert sorted(results) == list(range(1, 31))
    assert counters.value("test-counter") == 30


def test_a_successful_look_up_gives_its_attempt_back(world, registration):
    # given
    number, code = registration.petition.number, registration.query_code
    # when: more successful look-ups than the failure allowance
    for _ in range(8):
        find_petition(number=number, code=code, ip="198.51.100.1")
    # then: still allowed
    assert find_petition(number=number, code=code, ip="198.51.100.1") == registration.petition


@override_settings(XINFANG_QUERY_CODE_MAX_FAILURES=3)
def test_wrong_codes_from_many_addresses_lock_the_number_even_for_the_right_code(client, world, registration):
    """Regression: the throttle was per address only, so guesses spread over addresses went on."""
    # given: three wrong codes, each from another address
    number, code = registration.petition.number, registration.query_code
    for i in range(3):
        assert _track_api(client, number, "WRONG-CODE", f"192.0.2.{i}").status_code == 404
    # when: the right code from a fresh address
    response = _track_api(client, number, code, "192.0.2.99")
    # then: refused like a wrong code, with the way out
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "query_code_locked"
    assert LOCKED_TEXT in error["message"]
    # and the portal page says the same
    page = client.post(reverse("portal:track"), {"number": number, "code": code}, REMOTE_ADDR="192.0.2.98")
    assert page.status_code == 404 and LOCKED_TEXT in page.content.decode()


@override_settings(XINFANG_QUERY_CODE_MAX_FAILURES=3)
def test_an_unknown_number_locks_the_same_way(client, world):
    # given
    for i in range(3):
        _track_api(client, "XF-990101-2026-999999", "WRONG", f"192.0.2.{i}")
    # when
    response = _track_api(client, "XF-990101-2026-999999", "WRONG", "192.0.2.50")
    # then
    assert response.status_code == 404 and response.json()["error"]["code"] == "query_code_locked"


@override_settings(XINFANG_QUERY_CODE_MAX_FAILURES=3)
def test_failures_on_a_number_before_it_exists_do_not_lock_the_petition_that_gets_it(client, world):
    # given: someone guesses the next number before it is registered
    for i in range(5):
        _track_api(client, "XF-990101-2026-000001", "WRONG", f"192.0.2.{i}")
    # when
    registration = register(world.a.office, world.intake_a, world.a.township)
    assert registration.petition.number == "XF-990101-2026-000001"
    # then
    response = _track_api(client, registration.petition.number, registration.query_code, "192.0.2.60")
    assert response.status_code == 200, response.content[:300]


@override_settings(XINFANG_QUERY_CODE_MAX_FAILURES=3)
def test_the_office_reissues_the_code_which_unlocks_and_is_audited(client, world, registration):
    # given: a locked number
    petition = registration.petition
    for i in range(4):
        with pytest.raises(TrackingFailed):
            find_petition(number=petition.number, code="WRONG", ip=f"192.0.2.{i}")
    with pytest.raises(QueryCodeLocked):
        find_petition(number=petition.number, code=registration.query_code, ip="192.0.2.70")
    # when: the clerk reissues it on the petition page
    client.force_login(world.intake_a)
    response = client.post(
        reverse("petitions:reissue_code", args=[petition.number]), {"identity_checked": "on"}, follow=True
    )
    # then: the new code is shown once
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="query-code"' in html
    new_code = html.split('id="query-code">', 1)[1].split("<", 1)[0]
    assert (
        'id="query-code"'
        not in client.get(reverse("petitions:detail", args=[petition.number])).content.decode()
    )
    # and it works, the old one does not
    assert find_petition(number=petition.number, code=new_code, ip="192.0.2.71") == petition
    with pytest.raises(TrackingFailed):
        find_petition(number=petition.number, code=registration.query_code, ip="192.0.2.72")
    # and it is audited
    event = AuditEvent.objects.get(action="petition.query_code_reissued")
    assert event.actor == world.intake_a and event.data["identity_checked"] is True


def test_reissue_needs_the_identity_check_and_an_office_role(client, world, registration):
    # given
    number = registration.petition.number
    # then: a handler may not
    client.force_login(world.handler_a)
    response = client.post(reverse("petitions:reissue_code", args=[number]), {"identity_checked": "on"})
    assert response.status_code in {403, 404}
    # and the clerk must confirm the identity check
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        reissue_query_code(user=world.intake_a, number=number, identity_checked=False)
    assert not AuditEvent.objects.filter(action="petition.query_code_reissued").exists()
