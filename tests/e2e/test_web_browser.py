"""The web page in a real browser (Debian's Chromium driven by Playwright): sign in, work a case
from the list in place, two agents racing for one case, merging ideas, an agent refused an
admin page, and hostile customer text that stays text."""

from __future__ import annotations

import os
import shutil

import pytest
from factories_web import PASSWORD, seed, serve

from patronage.resources.database import make_engine

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Chromium at {CHROMIUM} and CI=true (.ci/run installs it)")
        pytest.skip("no Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'patronage.db'}")
    seed(engine)
    with serve(engine) as base:
        yield base
    engine.dispose()


def signed_in(browser, base: str, username: str, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/")
    assert "/sign-in" in page.url
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    return page


def test_claim_note_and_resolve_a_case_in_place(browser, site):
    page = signed_in(browser, site, "ana")
    assert page.get_by_role("heading", name="My work").is_visible()
    row = page.locator("#case-RET-C1")
    # By keyboard: focus the claim button and press Enter.
    row.get_by_role("button", name="Claim RET-C1").focus()
    page.keyboard.press("Enter")
    row.get_by_text("You hold RET-C1.").wait_for()
    assert row.get_by_role("button", name="Release RET-C1").is_visible()
    row.get_by_text("Note, snooze, resolve").click()
    row.get_by_label("Note").fill("Called; she wants the loyalty credit")
    row.get_by_role("button", name="Add note").click()
    row.get_by_text("Note added to RET-C1.").wait_for()
    row.get_by_text("Note, snooze, resolve").click()
    row.get_by_label("Outcome").select_option("retained")
    row.get_by_role("button", name="Resolve").click()
    page.get_by_text("RET-C1 resolved: retained.").wait_for()
    page.reload()
    assert page.locator("#case-RET-C1").count() == 0
    assert page.locator("#case-RET-C2").is_visible()
    # The case page keeps the work done.
    page.goto(f"{site}/cases/RET-C1")
    assert page.get_by_text("Called; she wants the loyalty credit").is_visible()


def test_two_agents_claim_the_same_case_one_wins(browser, site):
    ana = signed_in(browser, site, "ana")
    bo = signed_in(browser, site, "bo")
    ana.locator("#case-RET-C2").get_by_role("button", name="Claim RET-C2").click()
    ana.get_by_text("You hold RET-C2.").wait_for()
    # Bo's page was loaded before Ana's claim and still offers it.
    bo.locator("#case-RET-C2").get_by_role("button", name="Claim RET-C2").click()
    bo.get_by_text("retention item RET-C2 is already claimed by ana").wait_for()
    assert bo.locator("#case-RET-C2").get_by_text("ana").first.is_visible()


def test_merging_two_ideas_moves_their_supporters(browser, site):
    page = signed_in(browser, site, "pia")
    page.wait_for_url("**/ideas")
    page.get_by_label("Pick IDEA-B to merge").check()
    page.get_by_label("Pick IDEA-A to merge").check()
    page.get_by_label("Merge picked ideas into IDEA-A").check()
    page.get_by_role("button", name="Merge picked ideas").click()
    page.wait_for_url("**/ideas/IDEA-A?*")
    assert page.get_by_text("Merged 1 idea(s) into IDEA-A; 1 supporter(s) moved.").is_visible()
    # C2 backed only IDEA-B; now they back IDEA-A (C1 backed both and is kept once).
    assert page.locator("#supporter-count").inner_text() == "2 customers, 1 others"
    assert page.get_by_role("cell", name="C2", exact=True).is_visible()
    page.goto(f"{site}/ideas")
    assert page.locator("#idea-IDEA-B").count() == 0


def test_an_agent_opening_an_admin_page_is_refused(browser, site):
    page = signed_in(browser, site, "ana")
    answer = page.goto(f"{site}/admin/quarantine")
    assert answer.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    assert not page.get_by_role("link", name="Quarantine").count()


def test_hostile_post_text_renders_as_text_and_the_page_stays_usable(browser, site):
    page = signed_in(browser, site, "pia")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in ("/ideas", "/ideas/IDEA-X"):
        page.goto(f"{site}{path}")
        page.wait_for_load_state("networkidle")
        assert page.title() != "pwned" and not dialogs
        assert page.locator("main script, main img").count() == 0
        assert page.get_by_text(
            '<script>document.title="pwned"</script>', exact=False
        ).first.is_visible()
    # The megabyte title is clipped and wraps: the page is no wider than the window, and its
    # links still work.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.get_by_role("link", name="← Ideas").click()
    page.wait_for_url("**/ideas")


def test_readable_at_phone_width(browser, site):
    page = signed_in(browser, site, "ana", width=390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#case-RET-C1").get_by_role("button", name="Claim RET-C1").is_visible()
