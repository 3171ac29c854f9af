"""The leader's dashboard in a real browser (issue #9 §4): the vendored ECharts draws every chart as
SVG under the Content-Security-Policy, each chart's table view opens on request, a chart links to
its drill-down, and the page prints on A4 without the menus.  Screenshots and the printed PDF go to
test-artifacts/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinfang.stats import rollup
from xinfang.workflow import services

from ..factories import PASSWORD, make_draft

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_leader_sees_the_charts_and_their_tables(live_server, page, shot, world):
    # given: county A registered petitions this year (two channels) and the worker counted them
    today = timezone.localdate()
    day = max(today - dt.timedelta(days=3), today.replace(month=1, day=1))
    for channel in ("letter", "letter", "visit"):
        draft = make_draft(world.a.township, received_on=day, channel=channel)
        services.register(draft=draft, office=world.a.office, actor=world.intake_a)
    rollup.refresh()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    # when: the county's leader signs in and opens the dashboard from the menu
    page.goto(live_server.url + "/staff/login/")
    page.fill("#id_username", world.leader_a.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("nav.mainnav")
    page.click("#nav-dashboard")
    # then: the charts are drawn as SVG inside their containers
    for key in ("trend", "channels", "categories", "localities"):
        page.wait_for_selector(f"#chart-{key} svg")
    assert page.locator("#headline-received a[data-metric]").inner_text() == "3"
    # the table view is there for screen readers, hidden on screen until asked for
    table = page.locator("#table-channels")
    assert table.get_attribute("class") and "visually-hidden" in table.get_attribute("class")
    assert "来信" in table.inner_text()
    page.locator("#section-channels .table-toggle").click()
    assert "visually-hidden" not in (table.get_attribute("class") or "")
    assert page.locator("#section-channels .table-toggle").get_attribute("aria-expanded") == "true"
    shot(page, "dashboard-leader")
    # printed: no menu, charts still drawn; the PDF is A4
    page.emulate_media(media="print")
    assert not page.locator("nav.mainnav").is_visible()
    assert page.locator("#chart-trend svg").count() == 1
    shot(page, "dashboard-leader-print")
    page.pdf(path="test-artifacts/dashboard-leader.pdf", format="A4", print_background=True)
    page.emulate_media(media="screen")
    # a table's number opens its drill-down with that total
    link = table.locator("a.figure").first
    number = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert "/staff/stats/drill/" in page.url
    assert number in page.inner_text("main")
    assert violations == []
