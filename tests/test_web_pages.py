"""Every page, for the role it serves, in every language: it renders, it carries the strict
Content-Security-Policy and no inline code, it shows no English in Kazakh or Russian, it is
scoped (another body's declaration is a 404, a page of another role a 403), and its queries do not
grow with the number of declarations.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polib  # type: ignore[import-untyped]
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from declarations.choices import DeclarationState as S
from declarations.choices import SignaturePolicy
from declarations.models import Declaration, ExportJob, Measure, Position, Record
from declarations.records import exports as export_services
from declarations.services.declarations import declaration_comment
from tests.builders import Org, build_org, declaration_in, pending_measure
from tests.web import client_as, text

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class World:
    org: Org
    declarations: dict[str, Declaration]
    consent: Measure
    order: Measure
    export: ExportJob
    record: Record


@pytest.fixture
def world(org: Org) -> World:
    declarations = {
        state: declaration_in(org, state)
        for state in (
            S.DRAFT,
            S.SUBMITTED,
            S.IN_REVIEW,
            S.AWAITING_CONSENT,
            S.IMPLEMENTING,
            S.RESOLVED,
        )
    }
    export = export_services.export_create(
        actor=org.auditor,
        filters=export_services.ExportFilters(bodies=[org.body.slug]),
        language="en",
    )
    return World(
        org=org,
        declarations=declarations,
        consent=pending_measure(declarations[S.AWAITING_CONSENT]),
        order=pending_measure(declarations[S.IMPLEMENTING]),
        export=export,
        record=Record.objects.filter(declaration=declarations[S.SUBMITTED]).first(),  # type: ignore[arg-type]
    )


def _url(w: World, page: str) -> str:
    name, _, state = page.partition(":")
    if name in ("consent",):
        return reverse("declarations:consent", args=[w.consent.code])
    if name == "implement":
        return reverse("declarations:implement", args=[w.order.code])
    if name == "export":
        return reverse("declarations:export", args=[w.export.code])
    if name in ("login", "logout"):
        return reverse(name)
    if name == "verify":
        return reverse("verify")
    if state:
        return reverse(f"declarations:{name}", args=[w.declarations[state].code])
    return reverse(f"declarations:{name}")


#: (who, page): every page for the role that uses it
PAGES = [
    ("servant", "mine"),
    ("servant", "declare"),
    ("servant", "edit:draft"),
    ("servant", "preview:draft"),
    ("servant", "declaration:submitted"),
    ("servant", "consent:"),
    ("manager", "reviews"),
    ("manager", "declaration:in_review"),
    ("manager", "decide:in_review"),
    ("manager", "open"),
    ("manager", "notifications"),
    ("manager", "notification-settings"),
    ("head", "overview"),
    ("head", "declaration:awaiting_consent"),
    ("head", "reassign:submitted"),
    ("ethics", "overview"),
    ("ethics", "open"),
    ("hr", "hr"),
    ("hr", "implement:"),
    ("auditor", "search"),
    ("auditor", "declaration:resolved"),
    ("auditor", "exports"),
    ("auditor", "export:"),
    (None, "login"),
    (None, "verify"),
]

INLINE_CODE = [
    re.compile(r"<script(?![^>]*\bsrc=)", re.I),  # an inline script
    re.compile(r"\sstyle\s*=", re.I),  # an inline style
    re.compile(r"\son[a-z]+\s*=", re.I),  # an event handler
    re.compile(r"javascript:", re.I),
]


def _english_msgids() -> dict[str, set[str]]:
    """Our catalogue's English sentences (long enough not to be a name), per language."""
    result = {}
    for lang in ("kk", "ru"):
        po = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))
        result[lang] = {
            e.msgid
            for e in po.translated_entries()
            if len(e.msgid) >= 12 and " " in e.msgid and "%" not in e.msgid and e.msgstr != e.msgid
        }
    return result


ENGLISH = _english_msgids()


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_page_renders_for_its_role_in_each_language(world: World, language: str) -> None:
    # the test organisation's own names ("Ethics commissioner" is a position's title) are data
    data = set(Position.objects.values_list("title", flat=True))
    english = ENGLISH.get(language, set()) - data
    for who, page in PAGES:
        user = world.org.users[who] if who else None
        response = client_as(user, language).get(_url(world, page))
        where = f"{who} {page} [{language}]"
        assert response.status_code == 200, where
        body = response.content.decode()
        assert f'<html lang="{language}">' in body, where
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
        for pattern in INLINE_CODE:
            assert not pattern.search(body), (where, pattern.pattern)
        assert response["X-Frame-Options"] == "DENY", where
        if language != "en":
            seen = text(response)
            left = sorted(m for m in english if m in seen)
            assert left == [], (where, left)
        # one <h1>, and headings never skip a level (h1 → h3)
        levels = [int(n) for n in re.findall(r"<h([1-6])\b", body)]
        assert levels.count(1) == 1, where
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (where, levels)
        # every visible input has a label
        for field_id in re.findall(
            r'<(?:input|select|textarea)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', body
        ):
            assert f'for="{field_id}"' in body or re.search(
                rf'<label[^>]*>[^<]*<input[^>]*id="{field_id}"', body
            ), (where, field_id)


def test_the_home_page_sends_each_role_where_its_work_is(world: World) -> None:
    org = world.org
    expected = {
        "servant": "mine",
        "manager": "reviews",
        "head": "overview",
        "ethics": "overview",
        "hr": "hr",
        "auditor": "search",
    }
    for who, page in expected.items():
        response = client_as(org.users[who]).get(reverse("declarations:home"))
        assert response.status_code == 302 and response.url == reverse(f"declarations:{page}"), who
    response = client_as(None).get(reverse("declarations:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# ---- scope ---------------------------------------------------------------------------------

DECLARATION_PAGES_GET = ["declaration", "edit", "preview", "decide", "reassign"]
DECLARATION_STEPS_POST = [
    "submit",
    "discard",
    "start-review",
    "decide",
    "no-conflict",
    "withdraw",
    "reassign",
    "comment",
    "addendum",
    "dossier",
]


@pytest.mark.parametrize("who", ["outsider", "servant2", "other_manager"])
def test_another_bodys_or_colleagues_case_is_a_404_on_every_page_and_step(
    world: World, who: str
) -> None:
    """Nothing says that the declaration exists: every page and every step of it is a 404, and the
    lists do not show it."""
    org = world.org
    client = client_as(org.users[who], "ru")
    for state, declaration in world.declarations.items():
        for name in DECLARATION_PAGES_GET:
            url = reverse(f"declarations:{name}", args=[declaration.code])
            assert client.get(url).status_code == 404, (who, name, state)
        for name in DECLARATION_STEPS_POST:
            url = reverse(f"declarations:{name}", args=[declaration.code])
            response = client.post(
                url, {"seen_state": declaration.state, "reason": "x", "text": "x"}
            )
            assert response.status_code == 404, (who, name, state)
        assert "Страница не найдена" in text(response)  # the 404 page in the reader's language
    for name, code in (
        ("consent", world.consent.code),
        ("implement", world.order.code),
        ("export", world.export.code),
        ("export-download", world.export.code),
        ("record-pdf", world.record.code),
    ):
        assert client.get(reverse(f"declarations:{name}", args=[code])).status_code == 404, name
    before = {c.pk: (c.state, c.updated_at) for c in Declaration.objects.all()}
    assert before == {c.pk: (c.state, c.updated_at) for c in Declaration.objects.all()}
    numbers = [c.registration_number for c in world.declarations.values() if c.registration_number]
    for page in ("mine", "reviews", "search"):
        seen = text(client.get(reverse(f"declarations:{page}")))
        assert not any(n in seen for n in numbers), (who, page)


def test_pages_of_another_role_are_403_in_the_readers_language(world: World) -> None:
    org = world.org
    client = client_as(org.servant, "kk")
    for page in ("overview", "hr", "exports"):
        response = client.get(reverse(f"declarations:{page}"))
        assert response.status_code == 403, page
        with translation.override("kk"):
            assert translation.gettext("Not open to you") in text(response)
    # the auditor reads but never acts
    client = client_as(org.auditor)
    declaration = world.declarations[S.SUBMITTED]
    assert client.get(reverse("declarations:reassign", args=[declaration.code])).status_code == 403
    assert client.get(reverse("declarations:declare")).status_code == 403


def test_anonymous_readers_are_sent_to_sign_in(world: World) -> None:
    client = client_as(None)
    for who, page in PAGES:
        if who is None:
            continue
        url = _url(world, page)
        response = client.get(url)
        assert response.status_code == 302, page
        assert response.url == f"{reverse('login')}?next={url}", page


def test_error_pages_are_ours_and_translated(world: World) -> None:
    response = client_as(world.org.servant, "ru").get("/no-such-page/")
    assert response.status_code == 404
    assert "Страница не найдена" in text(response)
    assert "default-src 'self'" in response["Content-Security-Policy"]


# ---- fast pages ----------------------------------------------------------------------------


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    return len(ctx.captured_queries)


LISTS = [
    ("servant", "mine"),
    ("manager", "reviews"),
    ("head", "overview"),
    ("ethics", "overview"),
    ("hr", "hr"),
    ("auditor", "search"),
]


def test_list_pages_ask_the_database_a_fixed_number_of_times(db: None) -> None:
    """Two declarations or fourteen: the same number of queries on every list (no query per row)."""
    org = build_org()
    for state in (S.SUBMITTED, S.IMPLEMENTING, S.AWAITING_CONSENT):
        declaration_in(org, state)
    few = {
        page: _queries(client_as(org.users[who]), reverse(f"declarations:{page}"))
        for who, page in LISTS
    }
    for _ in range(4):
        for state in (S.SUBMITTED, S.IN_REVIEW, S.IMPLEMENTING, S.RESOLVED):
            declaration_in(org, state, who="servant2")
    many = {
        page: _queries(client_as(org.users[who]), reverse(f"declarations:{page}"))
        for who, page in LISTS
    }
    assert many == few
    assert max(many.values()) <= 20, many


def test_the_case_page_asks_a_fixed_number_of_times_however_long_its_timeline(
    world: World,
) -> None:
    org = world.org
    declaration = world.declarations[S.IN_REVIEW]
    url = reverse("declarations:declaration", args=[declaration.code])
    few = _queries(client_as(org.manager), url)
    for i in range(15):
        declaration_comment(declaration=declaration, actor=org.ethics, text=f"Note {i}")
    many = _queries(client_as(org.manager), url)
    assert many == few and many <= 40, (few, many)


def test_pages_are_small_and_need_no_script(world: World) -> None:
    """No front-end build: one stylesheet, and the busiest page is small. The only script is
    the self-hosted NCALayer client (issue 15), on the pages of steps the body lets people sign,
    and the forms work without it; a body that does not use signatures gets no script at all."""
    client = client_as(world.org.manager)
    url = reverse("declarations:decide", args=[world.declarations[S.IN_REVIEW].code])
    world.org.body.sign_decision = SignaturePolicy.OFF
    world.org.body.sign_notice = world.org.body.sign_answer = SignaturePolicy.OFF
    world.org.body.sign_addendum = SignaturePolicy.OFF
    world.org.body.save()
    body = client.get(url).content.decode()
    assert "<script" not in body
    world.org.body.sign_decision = SignaturePolicy.OPTIONAL
    world.org.body.save()
    response = client.get(url)
    body = response.content.decode()
    assert re.findall(r"<script[^>]*>", body) == [
        '<script src="/static/declarations/sign.js" defer>'
    ]
    assert body.count('rel="stylesheet"') == 1
    assert len(response.content) < 60_000
    css = (ROOT / "declarations" / "static" / "declarations" / "web.css").stat().st_size
    assert css < 20_000
