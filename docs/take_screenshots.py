"""Screenshots of the web page for the README: the bundled sample company run through the
nightly, served by ``patronage web``'s app, photographed by Debian's Chromium.

    make screenshots        # writes docs/screenshots/*.png
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import select

HERE = Path(__file__).resolve().parent
OUT = HERE / "screenshots"
sys.path.insert(0, str(HERE.parent / "tests"))

PASSWORD = "screenshot password"


def main() -> None:
    from factories_web import serve

    from patronage.resources.database import make_engine
    from patronage.schemas.tables import ideation_items, retention_cases
    from patronage.web.users import add_user

    home = Path(tempfile.mkdtemp(prefix="patronage-screens-"))
    env = {**os.environ, "PATRONAGE_HOME": str(home), "PREFECT_HOME": str(home / "prefect")}
    patronage = str(Path(sys.executable).with_name("patronage"))
    subprocess.run([patronage, "demo"], env=env, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{home / 'patronage.db'}")
    with engine.connect() as conn:
        teams = sorted(set(conn.execute(select(retention_cases.c.owner)).scalars()))
        top_case = conn.execute(
            select(retention_cases.c.case_id).order_by(retention_cases.c.priority_score.desc())
        ).scalar()
        top_idea = conn.execute(
            select(ideation_items.c.idea_key).order_by(ideation_items.c.priority_score.desc())
        ).scalar()
    add_user(engine, "agent", "agent", PASSWORD, teams)
    add_user(engine, "admin", "admin", PASSWORD)
    OUT.mkdir(exist_ok=True)
    with serve(engine) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        for user, pages in (
            ("agent", [("/work", "my-work"), (f"/cases/{top_case}", "case")]),
            ("admin", [("/ideas", "ideas"), (f"/ideas/{top_idea}", "idea"),
                       ("/admin/quarantine", "quarantine"), ("/admin/identity", "identity-review")]),
        ):  # fmt: skip
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{base}/sign-in")
            page.get_by_label("Username").fill(user)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state("networkidle")
            for path, name in pages:
                page.goto(f"{base}{path}")
                page.screenshot(path=OUT / f"{name}.png")
            if user == "agent":
                phone = browser.new_page(viewport={"width": 390, "height": 844})
                phone.context.add_cookies(page.context.cookies())
                phone.goto(f"{base}/work")
                phone.screenshot(path=OUT / "my-work-phone.png")
        browser.close()
    engine.dispose()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
