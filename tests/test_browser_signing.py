"""Signing with one's own EDS in the browser (issue 15), in Kazakh and Russian: a stub NCALayer
(a WebSocket server started here, answering ``kz.gov.pki.knca.basics`` ``sign`` with the NCA
test keys) stands where NCALayer runs on a civil servant's computer. The servant signs the
notice, the manager signs the decision, the servant signs the answer to the transfer; the
records carry the signature blocks and the signatures; the dossier lists them. axe-core finds
no serious violation on the pages with the sign button, and the CSP keeps scripts to 'self'.

The clock is pinned inside the test certificates' validity (``tests/eds.py``: AT), so this does
not expire with them.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from websockets.asyncio.server import ServerConnection, serve

from declarations.choices import DeclarationState
from declarations.models import Declaration, PersonalSignature, Position, Record
from declarations.records.issuing import dossier_issue
from declarations.records.verification import embedded_files
from declarations.services.personal_signatures import DEVELOPMENT_KEYS
from tests.eds import AT, sign, use_test_pki
from tests.records import flat, text_of
from tests.test_browser import PASSWORD, Walk
from tests.test_browser import browser as browser  # the module's browser fixture

pytestmark = pytest.mark.browser


class StubNCALayer:
    """NCALayer's WebSocket, as far as the pages use it: the greeting, then ``sign``."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}"
        self.signed: list[str] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _answer(self, connection: ServerConnection) -> None:
        await connection.send(json.dumps({"result": {"version": "1.4 (stub)"}}))
        async for message in connection:
            request = json.loads(message)
            args = request["args"]
            assert request["module"] == "kz.gov.pki.knca.basics" and request["method"] == "sign"
            assert args["format"] == "cms" and args["signingParams"]["encapsulate"] is False
            iin = args["signerParams"]["iin"]
            content = base64.b64decode(args["data"])
            cms = await asyncio.to_thread(
                sign, content, key=DEVELOPMENT_KEYS[iin], signing_time=dt.datetime.now(dt.UTC)
            )
            self.signed.append(iin)
            body = {"result": [base64.b64encode(cms).decode()]}
            await connection.send(json.dumps({"status": True, "body": body}))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            async with serve(self._answer, "127.0.0.1", self.port):
                self._ready.set()
                await self._stop.wait()  # then the server closes its connections

        self._loop.run_until_complete(main())
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    def __enter__(self) -> StubNCALayer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def ncalayer(settings: Any) -> Iterator[StubNCALayer]:
    with StubNCALayer() as stub:
        use_test_pki(settings, COI_EDS_ACCEPT_TEST_IDENTIFIERS=True, COI_NCALAYER_URL=stub.url)
        directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
        settings.CONTENT_SECURITY_POLICY = {
            "DIRECTIVES": {**directives, "connect-src": ["'self'", stub.url]}
        }
        yield stub


def _sign_and_send(walk: Walk) -> None:
    """Click "sign and send": the script asks the step for its statement, NCALayer signs it,
    and the form goes with the signature (a navigation)."""
    status = walk.page.locator("[data-sign-status]").first
    try:
        with walk.page.expect_navigation(timeout=20_000):
            walk.page.click("[data-sign-button]")
    except Exception as error:  # say what the page said
        raise AssertionError(f"not sent: {status.inner_text()!r}") from error
    walk.page.wait_for_load_state()


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_servant_and_the_manager_sign_with_their_eds(
    live_server: Any,
    browser: Any,
    transactional_db: None,
    ncalayer: StubNCALayer,
    language: str,
) -> None:
    from declarations.seeding.demo import seed_demo
    from tests.records import IMMEDIATE

    with time_machine.travel(AT, tick=True):
        demo = seed_demo(password=PASSWORD)
        vacant = Position.objects.create(
            body=demo.body, unit=demo.vacant.unit, title="Бас маман / Главный специалист 88"
        )
        with IMMEDIATE:
            _walk(live_server.url, browser, language, ncalayer, vacant)


def _walk(base: str, chromium: Any, language: str, ncalayer: StubNCALayer, vacant: Any) -> None:
    matter = f"Тендер № 88 ({language})"
    # 1. the servant signs the notice
    s = Walk(chromium, base, language)
    s.login("servant")
    s.go("/declarations/new/")
    p = s.page
    p.check("input[name=conflict_type][value=actual]")
    p.select_option("select[name=category]", "kinship")
    p.fill("textarea[name=matter]", matter)
    p.fill("textarea[name=personal_interest]", "Бауырым — жеткізушінің құрылтайшысы.")
    p.fill("input[name=aware_since]", (timezone.localdate() - timedelta(days=1)).isoformat())
    p.check("input[name=addressee][value=manager]")
    s.submit("button[name=preview]")
    assert p.locator("[data-sign-button]").is_visible()
    s.check("sign-notice")
    csp = p.evaluate(
        "async () => (await fetch(location.href)).headers.get('content-security-policy')"
    )
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    p.check("input[name=confirm]")
    _sign_and_send(s)
    declaration = Declaration.objects.get(matter=matter)
    assert declaration.state == DeclarationState.SUBMITTED
    s.close()

    # 2. the manager proposes a transfer and signs the decision
    m = Walk(chromium, base, language)
    m.login("manager")
    m.go(f"/declarations/{declaration.code}/")
    m.submit("#start-review")
    m.go(f"/declarations/{declaration.code}/decide/")
    m.page.select_option("select[name=m0-kind]", "transfer")
    m.page.fill("input[name=position_search]", vacant.title)
    m.submit("button[name=search]")
    m.page.select_option("select[name=m0-position]", index=1)
    m.page.fill(
        "input[name=m0-proposed_date]", (timezone.localdate() + timedelta(days=10)).isoformat()
    )
    m.page.fill("textarea[name=reason]", "Ауыстыру / Перевод.")
    m.check("sign-decision")
    _sign_and_send(m)
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.AWAITING_CONSENT
    m.close()

    # 3. the servant accepts the transfer and signs the answer
    s = Walk(chromium, base, language)
    s.login("servant")
    s.go(f"/declarations/{declaration.code}/")
    s.page.click("#answer-consent")
    s.page.wait_for_load_state()
    s.page.check("input[name=decision][value=accept]")
    s.check("sign-answer")
    _sign_and_send(s)
    declaration.refresh_from_db()
    assert declaration.state == DeclarationState.IMPLEMENTING
    s.close()

    # the three acts are signed by the two people, kept, printed and embedded
    assert ncalayer.signed == ["123456789011", "123456789012", "123456789011"]
    signatures = PersonalSignature.objects.filter(declaration=declaration)
    assert signatures.count() == 3
    title = {
        "kk": "Жеке электрондық цифрлық қолтаңбалар",
        "ru": "Личные электронные цифровые подписи",
    }
    for record in Record.objects.filter(declaration=declaration, status="issued"):
        with record.file.open("rb") as f:
            data = f.read()
        if PersonalSignature.objects.filter(event=record.event).exists():
            assert any(n.endswith(".p7s") for n in embedded_files(data)), record.kind
    data = _dossier(declaration, language)
    assert title[language] in flat(text_of(data))
    assert sum(n.endswith(".p7s") for n in embedded_files(data)) == 3


def _dossier(declaration: Declaration, language: str) -> bytes:
    """The auditor's dossier, sealed in a thread of its own: sealing runs an asyncio loop, and
    this thread already runs Playwright's."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    made: dict[str, bytes] = {}

    def issue() -> None:
        try:
            auditor = get_user_model().objects.get(username="auditor")
            record = dossier_issue(declaration=declaration, actor=auditor, language=language)
            with record.file.open("rb") as f:
                made["pdf"] = f.read()
        finally:
            connections.close_all()

    worker = threading.Thread(target=issue)
    worker.start()
    worker.join(120)
    return made["pdf"]
