"""统计分析 in a real browser: the tables on screen, and printed on A4 without menus, filters or
buttons (issue #9 §2, "every page prints on A4")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xinfang.stats import rollup
from xinfang.workflow import services

from ..factories import make_draft
from .test_queue_layout import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_statistics_page_prints_without_navigation(live_server, browser, shot, world):
    for channel in ("letter", "visit"):
        draft = make_draft(world.a.township, channel=channel)
        services.register(draft=draft, office=world.a.office, actor=world.intake_a)
    rollup.refresh()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server.url, world.leader_a)
        page.goto(live_server.url + reverse("stats:figures"))
        assert page.locator("#nav-stats").is_visible()
        assert page.locator("#table-channel a.fig").first.is_visible()
        shot(page, "stats-figures")
        page.emulate_media(media="print")
        assert not page.locator("header.topbar").is_visible()
        assert not page.locator("#figures-filters").is_visible()
        assert not page.locator("#export-counts").is_visible()
        assert page.locator("#table-rates").is_visible()
        pdf = page.pdf(prefer_css_page_size=True)
        assert pdf.startswith(b"%PDF")
        # A4 landscape in PDF points (842 x 595), from the page's @page rule.
        assert b"/MediaBox [0 0 841.91998 594.95996]" in pdf or b"/MediaBox [0 0 842 595]" in pdf
    finally:
        context.close()
