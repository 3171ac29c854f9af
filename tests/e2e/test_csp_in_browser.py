"""Under the Content-Security-Policy, in a real browser (issue #7, point 30): no page reports a
policy violation, and the language menu, whose inline ``onchange`` the policy would block, still
switches the language through the static script."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pages_raise_no_csp_violation_and_the_language_menu_works(live_server, page, world):
    # given: every console message and every securitypolicyviolation event is collected
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    base = live_server.url
    # when: the portal's pages and the staff login are opened
    for path in ("/portal/", "/portal/submit/", "/portal/track/", "/staff/login/"):
        page.goto(base + path)
        assert page.locator("link[rel=stylesheet]").count() >= 1
    # and the language is switched with the menu
    page.goto(base + "/portal/")
    # (the form posts and the page reloads after select_option returns: wait for that navigation,
    # or the assertion may read the old page)
    with page.expect_navigation(url=lambda url: url.endswith("/portal/")):
        page.select_option("select[name=language]", "en")
    page.wait_for_load_state("load")
    # then: the page came back in English, and nothing was blocked
    assert page.locator("html").get_attribute("lang") == "en"
    assert violations == []
