"""A signed-in official in a browser context of their own, shared by the browser tests that walk a
petition through several people's hands."""

from __future__ import annotations

from ..factories import PASSWORD


class Staff:
    def __init__(self, browser, base: str, user, landing: str = "#workbench-counts") -> None:  # noqa: ANN001
        self.base = base
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.goto(base + "/staff/login/")
        self.page.fill("#id_username", user.username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector(landing)  # casework roles land on the workbench

    def open(self, number: str) -> None:
        self.page.goto(f"{self.base}/staff/petitions/{number}/")

    def act(self, number: str, action: str, fill=None, select=None, check=()) -> str:  # noqa: ANN001
        """Open the petition, take ``action`` through its form in the action panel, and return the
        text of the page afterwards (with the flash message)."""
        self.open(number)
        panel = self.page.locator(f"#action-{action}")
        panel.locator("summary").click()
        for name, value in (select or {}).items():
            panel.locator(f"select[name={name}]").select_option(**value)
        for name, value in (fill or {}).items():
            panel.locator(f"[name={name}]").fill(value)
        for name in check:
            panel.locator(f"[name={name}]").check()
        panel.locator("button[type=submit]").click()
        self.page.wait_for_load_state()
        return self.page.inner_text("main")

    def issue_document(
        self, number: str, action: str, approver: Staff, fill: dict[str, str], outcome: str
    ) -> str:
        """Take ``action`` the way it is taken since issue #10: the panel's link to its document, the
        draft saved, the leader's approval, then 印发 with its confirmation; returns the flash message."""
        self.open(number)
        self.page.click(f"#document-step-{action}")
        self.page.wait_for_selector("#draft-form")
        for name, value in fill.items():
            self.page.fill(f"#draft-form [name={name}]", value)
        self.page.select_option("#draft-form select[name=outcome]", value=outcome)
        self.page.click("#save-draft")
        self.page.wait_for_selector("#document-facts")
        url = self.page.url
        approver.page.goto(url)
        approver.page.fill("#approve [name=note]", "同意印发")
        approver.page.click("#approve-document")
        approver.page.wait_for_selector("#document-approved")
        self.page.goto(url)
        self.page.click("#issue-document")
        self.page.click("#confirm-issue")
        self.page.wait_for_selector("#document-reference")
        return self.page.inner_text("main")

    def close(self) -> None:
        self.context.close()
