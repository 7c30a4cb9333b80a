"""Browser tests: the whole lifecycle through the web pages, as each role, in Debian's Chromium.

Playwright drives ``/usr/bin/chromium`` (installed by ``.ci/test``; browser downloads are blocked
here) against the live test server. Each walk — in Kazakh, in Russian and in English — is:
the servant files a notice; the manager proposes a transfer; the servant declines; the manager
changes the servant's duties; HR records the order; the auditor downloads the signed dossier.
On every main page axe-core (from the npm registry, ``tests/browser/package.json``) must find no
serious or critical violation, and a screenshot goes to ``docs/screenshots/<language>/``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from declarations.choices import DeclarationState, MeasureState
from declarations.models import Declaration, Position, Record
from declarations.seeding.demo import seed_demo
from tests.records import IMMEDIATE

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("COI_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "browser-walk-password"
PHONE = {"width": 390, "height": 844}
# Flags the machine needs: no sandbox as root, and no background calls to Google's services
# (the closed network refuses them, many at a time).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

if not CHROMIUM.exists() or not AXE.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"browser tests need {CHROMIUM} and {AXE}: run .ci/test")
    pytest.skip(
        "Chromium or axe-core is not installed (.ci/test installs them)", allow_module_level=True
    )

# Playwright's sync API runs an event loop in this thread; the test's own database calls are
# ordinary synchronous code between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        yield b
        b.close()


class Walk:
    """One reader's session in one language, with the checks every page gets."""

    def __init__(self, browser: Browser, base: str, language: str, phone: bool = False) -> None:
        self.base, self.language, self.phone = base, language, phone
        self.context = browser.new_context(
            locale={"kk": "kk-KZ", "ru": "ru-RU", "en": "en-GB"}[language],
            viewport=PHONE if phone else {"width": 1200, "height": 900},
            is_mobile=phone,
            has_touch=phone,
            accept_downloads=True,
        )
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # a form sent back with its errors is a 400 page by design, which Chromium notes in the
        # console for the document itself; anything else (a script, a style, a 400 for another
        # resource) is an error
        own_page = (message.location or {}).get("url") == self.page.url
        if own_page and "status of 400" in message.text:
            return
        self.errors.append(message.text)

    def close(self) -> None:
        self.context.close()

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str) -> None:
        self.go("/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("form.narrow button[type=submit]")
        self.page.wait_for_load_state()
        # the switcher saves the choice for this user; the page then speaks it
        self.switch_language()

    def switch_language(self) -> None:
        self.page.select_option("#language-select", self.language)
        self.page.click("header .tools form:first-child button")
        self.page.wait_for_load_state()
        assert self.page.locator("html").get_attribute("lang") == self.language

    def focused(self, script: str = "e => e") -> Any:
        return self.page.evaluate(f"() => ({script})(document.activeElement)")

    def logout(self) -> None:
        self.page.click("header .tools form:last-child button")
        self.page.wait_for_load_state()

    def check(self, name: str) -> None:
        """axe-core on this page: no serious or critical violation; then a screenshot."""
        self.page.evaluate(AXE.read_text())  # evaluated by the browser tools: CSP does not apply
        result = self.page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
        )
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        assert not bad, f"{name} ({self.language}): {json.dumps(bad, ensure_ascii=False, indent=1)}"
        if self.phone:  # nothing wider than the screen: no sideways scrolling on a phone
            overflow = self.page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"{name} ({self.language}) is {overflow}px too wide"
            name = f"phone-{name}"
        folder = SHOTS / self.language
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        assert not self.errors, f"console errors on {name}: {self.errors}"

    def submit(self, selector: str) -> None:
        self.page.click(selector)
        self.page.wait_for_load_state()


def untranslated(page: Page, language: str) -> list[str]:
    """English words left on a page that should be in Kazakh or Russian."""
    if language == "en":
        return []
    text = page.locator("main").inner_text() + page.locator("header").inner_text()
    # file formats, the language's own name and the demo users' log-in names are not words to
    # translate
    words = re.findall(r"\b[A-Za-z]{4,}\b", text)
    keep = {"JPEG", "English", "servant", "manager", "head", "auditor", "ethics"}
    return [w for w in words if w not in keep]


@pytest.fixture
def demo(transactional_db: None) -> Any:
    """The demo organisation; records are then issued by the live server as steps happen.

    Seeding runs before the task backend turns immediate: sealing uses asyncio, and this
    thread already runs Playwright's event loop. The server's own thread has none.
    """
    org = seed_demo(password=PASSWORD)
    with IMMEDIATE:
        yield org


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_whole_lifecycle_as_each_role(
    live_server: Any, browser: Browser, demo: Any, language: str
) -> None:
    base = live_server.url
    matter = {
        "kk": "Жеткізушілердің өтінімдерін бағалау № 77",
        "ru": "Оценка заявок поставщиков № 77",
        "en": "Evaluation of supplier bids No. 77",
    }[language]
    # a vacancy of its own (the demo's one is already proposed in another declaration)
    vacant = Position.objects.create(
        body=demo.body, unit=demo.vacant.unit, title="Бас маман / Главный специалист 77"
    )

    # 1. the servant files a notice: form, preview, confirmation
    s = Walk(browser, base, language)
    s.login("servant")
    s.check("my-cases")
    s.go("/declarations/new/")
    s.check("declare")
    p = s.page
    p.click("button[name=preview]")  # empty: per-field errors, nothing saved
    p.wait_for_load_state()
    assert p.locator(".field.invalid").count() >= 4
    assert untranslated(p, language) == []
    p.check("input[name=conflict_type][value=actual]")
    p.select_option("select[name=category]", "kinship")
    p.fill("textarea[name=matter]", matter)
    p.fill(
        "textarea[name=personal_interest]", "Бауырым — жеткізушінің құрылтайшысы. Брат учредитель."
    )
    p.fill("input[name=aware_since]", (timezone.localdate() - timedelta(days=1)).isoformat())
    p.check("input[name=addressee][value=manager]")
    s.submit("button[name=preview]")
    assert "/preview/" in p.url
    s.check("preview")
    p.check("input[name=confirm]")
    s.submit("#file-notice")
    declaration = Declaration.objects.get(matter=matter)
    assert declaration.state == DeclarationState.SUBMITTED
    assert p.locator("#case-state").get_attribute("data-state") == "submitted"
    s.check("case-servant")
    s.close()

    # 2. the manager proposes a transfer to a vacant position
    m = Walk(browser, base, language)
    m.login("manager")
    m.go("/declarations/reviews/")
    m.check("inbox")
    m.go("/notifications/")  # told of the notice (issue 16)
    m.check("notifications")
    m.go("/notifications/settings/")
    m.check("notification-settings")
    m.go(f"/declarations/{declaration.code}/")
    m.submit("#start-review")
    m.page.click("#decide")
    m.page.wait_for_load_state()
    m.check("decide")
    m.page.select_option("select[name=m0-kind]", "transfer")
    m.page.fill("input[name=position_search]", vacant.title)
    m.submit("button[name=search]")  # narrows the list and keeps what was chosen
    assert m.page.input_value("select[name=m0-kind]") == "transfer"
    options = m.page.locator("select[name=m0-position] option")
    assert options.count() == 2, options.all_inner_texts()  # "—" and the one vacancy found
    m.page.select_option("select[name=m0-position]", index=1)
    m.page.fill(
        "input[name=m0-proposed_date]", (timezone.localdate() + timedelta(days=10)).isoformat()
    )
    m.page.fill("textarea[name=reason]", "Transfer: the matter is the unit's main work.")
    m.submit("#record-decision")
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.AWAITING_CONSENT

    # 3. the servant declines with a reason
    s = Walk(browser, base, language)
    s.login("servant")
    s.go(f"/declarations/{declaration.code}/")
    s.page.click("#answer-consent")
    s.page.wait_for_load_state()
    s.check("consent")
    s.page.check("input[name=decision][value=decline]")
    s.page.fill("textarea[name=reason]", "Family reasons.")
    s.submit("#send-answer")
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.IN_REVIEW
    s.close()

    # 4. the manager changes the servant's duties instead
    m.go(f"/declarations/{declaration.code}/decide/")
    m.page.select_option("select[name=m0-kind]", "change_duties")
    m.page.fill("textarea[name=m0-description]", "The servant no longer evaluates bids.")
    m.page.fill("input[name=m0-effective_date]", timezone.localdate().isoformat())
    m.page.fill("textarea[name=reason]", "The transfer was declined.")
    m.submit("#record-decision")
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.IMPLEMENTING
    m.check("case-manager")
    m.close()

    # 5. HR records the order
    h = Walk(browser, base, language)
    h.login("hr")
    h.check("hr-orders")
    h.page.click("table a.button")
    h.page.wait_for_load_state()
    h.check("record-order")
    h.page.fill("input[name=order_number]", "77-к")
    h.page.fill("input[name=order_date]", timezone.localdate().isoformat())
    h.submit("#record-order")
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.RESOLVED
    assert declaration.measures.filter(state=MeasureState.DONE).count() == 1
    h.close()

    # 6. management's overview, then the auditor downloads the signed dossier
    g = Walk(browser, base, language)
    g.login("head")
    g.check("overview")
    g.close()
    a = Walk(browser, base, language)
    a.login("auditor")
    a.check("auditor-cases")
    a.go(f"/declarations/{declaration.code}/")
    a.check("case-auditor")
    with a.page.expect_download() as download:
        a.page.click("#download-dossier")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    assert (
        Record.objects.filter(declaration=declaration, kind="dossier", status="issued").count() == 1
    )
    a.go("/exports/")
    a.check("exports")
    a.close()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_on_a_phone_and_with_the_keyboard_alone(
    live_server: Any, browser: Browser, demo: Any, language: str
) -> None:
    """The other roles' pages at phone width (390 px), signing in with the keyboard alone: an
    ethics commissioner opens a confidential declaration from other sources and comments, management
    hands the review to another reviewer, the servant adds to the notice without seeing the
    source, the auditor runs a bulk export, watches it and downloads the ZIP."""
    base = live_server.url

    # 1. the keyboard alone: the skip link comes first and shows where the focus is
    e = Walk(browser, base, language, phone=True)
    e.go("/verify/")
    e.page.keyboard.press("Tab")
    assert e.focused("e => e.className") == "skip"
    assert e.focused("e => getComputedStyle(e).outlineStyle") != "none"
    box = e.page.locator(".skip").bounding_box()
    assert box is not None and box["x"] >= 0  # on screen once focused
    e.page.keyboard.press("Enter")
    assert e.focused("e => e.id") == "main"
    # the sign-in page puts the cursor in the user name; the rest is Tab, typing and Enter
    e.go("/accounts/login/")
    assert e.focused("e => e.name") == "username"
    assert e.focused("e => getComputedStyle(e).outlineStyle") != "none"
    e.page.keyboard.type("ethics")
    e.page.keyboard.press("Tab")
    assert e.focused("e => e.name") == "password"
    e.page.keyboard.type(PASSWORD)
    e.page.keyboard.press("Enter")
    e.page.wait_for_url(re.compile(r".*/declarations/overview/$"))
    e.switch_language()
    e.check("overview")

    # 2. the ethics commissioner opens a declaration from other sources, with a confidential source
    e.go("/declarations/open/")
    e.check("open-case")
    p = e.page
    servant = demo.users["servant"].servant
    p.select_option("select[name=declarant]", str(servant.code))
    p.check("input[name=conflict_type][value=potential]")
    p.select_option("select[name=category]", "property")
    p.fill("textarea[name=matter]", "Лизинг № 12 / Lease No. 12")
    p.fill("textarea[name=personal_interest]", "Co-owner of the lessor.")
    p.fill("input[name=aware_since]", timezone.localdate().isoformat())
    p.fill("textarea[name=source_description]", "Letter No. 7 from a citizen")
    p.check("input[name=source_confidential]")
    e.submit("#open-case")
    declaration = Declaration.objects.get(matter="Лизинг № 12 / Lease No. 12")
    assert declaration.origin == "other_source" and declaration.source_confidential
    assert p.locator("#case-state").get_attribute("data-state") == "submitted"
    p.fill("textarea[name=text]", "Ask the registry for the lease file.")
    e.submit("#add-comment")
    assert "Ask the registry for the lease file." in p.locator(".timeline").inner_text()
    e.check("case-ethics")
    e.close()

    # 3. management hands the review to another reviewer
    h = Walk(browser, base, language, phone=True)
    h.login("head")
    h.go(f"/declarations/{declaration.code}/reassign/")
    h.check("reassign")
    reviewer = demo.users["servant2"]
    h.page.select_option("select[name=reviewer]", str(reviewer.pk))
    h.page.fill("textarea[name=reason]", "The director is on leave.")
    h.submit("#change-reviewer")
    declaration.refresh_from_db()
    assert declaration.reviewer_id == reviewer.pk
    h.close()

    # 4. the servant reads the declaration without its confidential source, and adds to it
    s = Walk(browser, base, language, phone=True)
    s.login("servant")
    s.check("my-cases")
    s.go(f"/declarations/{declaration.code}/")
    assert "Letter No. 7" not in s.page.content()
    s.page.click("details:has(#add-addendum) summary")
    s.page.fill("textarea[name=addendum-text]", "I sold my share on 1 March.")
    s.submit("#add-addendum")
    assert "I sold my share on 1 March." in s.page.locator(".timeline").inner_text()
    s.check("case-servant")
    s.close()

    # 5. the auditor starts a bulk export, watches it and downloads it
    a = Walk(browser, base, language, phone=True)
    a.login("auditor")
    a.go("/exports/")
    a.check("exports")
    a.submit("#start-export")
    assert "/exports/" in a.page.url
    a.page.wait_for_selector("#export-status[data-status=done]", timeout=60_000)
    a.check("export")
    with a.page.expect_download() as download:
        a.page.click("#download-export")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"PK")
    a.close()
