"""Who may read what, per document (issue 12): a confidential source (Law 410-V Art. 24) reaches
ethics commissioners and auditors only, and internal comments never reach the declarant —
through every route a reader has: the API and the pages, the records of each step, dossiers in
every language, stored dossiers made for someone else, exports and notifications.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from declarations import permissions, selectors
from declarations.choices import ExportStatus, RecordKind
from declarations.models import Declaration, ExportJob, Record
from declarations.records.exports import ExportFilters, export_create
from declarations.records.issuing import dossier_issue
from declarations.services.decisions import declaration_decide
from declarations.services.declarations import declaration_comment
from declarations.services.measures import measure_consent, measure_implement
from declarations.services.notifications import notifications_send_pending
from declarations.services.transitions import declaration_start_review
from tests.api import BASE, client_for, declaration_url
from tests.builders import Org, opened_declaration, pending_measure, transfer
from tests.records import IMMEDIATE, flat, issue_all, text_of
from tests.web import client_as

SOURCE = "Whistleblower QX7781"
COMMENT = "Internal note ZK5521"
WITHHELD = {
    "en": "the source is withheld from this document",
    "ru": "источник не раскрывается",
    "kk": "дереккөз бұл құжатта көрсетілмейді",
}
EVERYONE = [
    "servant",
    "servant2",
    "manager",
    "other_manager",
    "head",
    "ethics",
    "hr",
    "auditor",
    "outsider",
    "admin",
]
SOURCE_READERS = {"ethics", "auditor"}


def _resolved_confidential_declaration(org: Org) -> Declaration:
    """Opened by the ethics commissioner on a confidential source, commented on, a transfer
    proposed, accepted and ordered: a notice, two decisions and a consent record."""
    declaration = opened_declaration(org, source_description=SOURCE, source_confidential=True)
    declaration_comment(declaration=declaration, actor=org.ethics, text=COMMENT)
    declaration_start_review(declaration=declaration, actor=org.manager)
    declaration_decide(
        declaration=declaration, actor=org.manager, reason="Move", measures=[transfer(org)]
    )
    measure = pending_measure(declaration)
    measure_consent(measure=measure, actor=org.servant, decision="accept")
    measure_implement(
        measure=pending_measure(declaration),
        actor=org.hr,
        order_number="77-k",
        order_date=timezone.localdate(),
    )
    issue_all(declaration)
    declaration.refresh_from_db()
    return declaration


def _obtainable_pdfs(
    org: Org, declaration: Declaration, who: str
) -> list[tuple[str, str, str, bytes]]:
    """Every PDF of the declaration ``who`` can obtain, by every route: (where from, made for whom,
    language, PDF); the records of a step are made for everyone on the declaration."""
    user = org.users[who]
    api = client_for(user)
    web = client_as(user)
    role = {u.pk: name for name, u in org.users.items()}
    got: list[tuple[str, str, str, bytes]] = []
    # the records of every step, and every stored dossier, whoever it was made for
    for record in Record.objects.filter(declaration=declaration):
        for route, response in (
            ("api", api.get(f"{BASE}/records/{record.code}/pdf/")),
            ("web", web.get(f"/records/{record.code}/pdf/")),
        ):
            assert response.status_code in (200, 403, 404), (who, route, response.status_code)
            if response.status_code == 200:
                made_for = role.get(record.requested_by_id, "everyone")
                where = f"{route} {record.kind} for {made_for}"
                got.append((where, made_for, record.language, response.content))
    # a dossier made now, in each language, by GET and by POST, and from the page
    for language in ("kk", "ru", "en"):
        for method in ("get", "post"):
            response = getattr(api, method)(
                declaration_url(declaration, "dossier") + f"?language={language}"
            )
            assert response.status_code in (200, 403, 404), (who, method, response.status_code)
            if response.status_code == 200:
                got.append((f"api dossier {method}", who, language, response.content))
        response = web.post(f"/declarations/{declaration.code}/dossier/", {"language": language})
        assert response.status_code in (200, 403, 404), (who, response.status_code)
        if response.status_code == 200:
            got.append(("web dossier", who, language, response.content))
    return got


@pytest.mark.django_db
def test_every_pdf_each_role_can_obtain_shows_the_source_and_comments_only_to_their_readers(
    org: Org,
) -> None:
    declaration = _resolved_confidential_declaration(org)
    kinds = set(Record.objects.filter(declaration=declaration).values_list("kind", flat=True))
    assert kinds == {RecordKind.NOTICE, RecordKind.DECISION, RecordKind.CONSENT}
    with IMMEDIATE:
        # dossiers already stored, made for a reader of the source and for management
        dossier_issue(declaration=declaration, actor=org.auditor, language="ru")
        dossier_issue(declaration=declaration, actor=org.head, language="kk")
        seen: dict[str, list[str]] = {}
        for who in EVERYONE:
            pdfs = _obtainable_pdfs(org, declaration, who)
            seen[who] = [where for where, _, _, _ in pdfs]
            for where, made_for, language, data in pdfs:
                text = flat(text_of(data))
                # the source only in a dossier made for a reader of it, and only to such readers
                assert (SOURCE in text) == ("dossier" in where and made_for in SOURCE_READERS)
                assert SOURCE not in text or who in SOURCE_READERS, (who, where)
                if "dossier" in where:
                    assert COMMENT in text and who != "servant", (who, where)
                    if made_for not in SOURCE_READERS:
                        assert WITHHELD[language] in text.lower(), (who, where, language)
                else:
                    assert COMMENT not in text, (who, where)
    # who got what: the declarant their step records; dossiers to auditors, ethics, management
    assert all("dossier" not in where for where in seen["servant"])
    assert len(seen["servant"]) == 2 * 4  # notice, 2 decisions, consent; api and web
    for who in ("ethics", "auditor", "head"):
        fresh = ("api dossier get", "api dossier post", "web dossier")
        assert sum(where in fresh for where in seen[who]) == 3 * 3
    # the head never gets the auditor's stored dossier (it carries the source) ...
    assert not any("for auditor" in where for where in seen["head"])
    # ... but the auditor gets both (the head's withholds nothing the auditor may not read)
    assert {"api dossier for auditor", "api dossier for head"} <= set(seen["auditor"])
    for who in ("servant2", "other_manager", "outsider", "admin"):
        assert seen[who] == []


@pytest.mark.django_db
def test_the_records_list_offers_only_what_the_reader_may_read(org: Org) -> None:
    declaration = _resolved_confidential_declaration(org)
    with IMMEDIATE:
        for_auditor = dossier_issue(declaration=declaration, actor=org.auditor, language="en")
        for_head = dossier_issue(declaration=declaration, actor=org.head, language="en")
    assert (for_auditor.confidential_source, for_auditor.internal_comments) == (True, True)
    assert (for_head.confidential_source, for_head.internal_comments) == (False, True)

    def listed(who: str) -> set[str]:
        response = client_for(org.users[who]).get(declaration_url(declaration, "records"))
        return {r["id"] for r in response.json()} if response.status_code == 200 else set()

    assert str(for_auditor.code) in listed("auditor") and str(for_head.code) in listed("auditor")
    assert str(for_auditor.code) in listed("ethics")
    assert str(for_head.code) in listed("head") and str(for_auditor.code) not in listed("head")
    assert not {str(for_auditor.code), str(for_head.code)} & listed("servant")
    # the queryset and the one-record rule agree, both ways, for every reader and record
    for who in EVERYONE:
        user = org.users[who]
        visible = set(selectors.record_list_visible_to(user=user).values_list("pk", flat=True))
        for record in Record.objects.filter(declaration=declaration):
            expected = (
                permissions.can_view(user, declaration)
                and permissions.can_read_record(user, record)
                and (
                    record.kind != RecordKind.DOSSIER
                    or permissions.can_view_dossier(user, declaration)
                )
            )
            assert (record.pk in visible) == expected, (who, record.kind, record.requested_by)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_an_export_carries_the_source_for_its_auditor_only(
    org: Org, django_capture_on_commit_callbacks: Any, language: str
) -> None:
    declaration = _resolved_confidential_declaration(org)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language=language)
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == ExportStatus.DONE
    with job.file.open("rb") as f:
        archive = zipfile.ZipFile(io.BytesIO(f.read()))
    (name,) = [n for n in archive.namelist() if n.startswith("dossiers/")]
    text = flat(text_of(archive.read(name)))
    assert SOURCE in text and COMMENT in text
    assert WITHHELD[language] not in text.lower()
    dossier = Record.objects.get(export=job)
    assert dossier.declaration_id == declaration.pk and dossier.confidential_source
    # the export and its dossiers are the auditor's: nobody else reaches them by id
    for who in EVERYONE:
        api, web = client_for(org.users[who]), client_as(org.users[who])
        routes = [
            api.get(f"{BASE}/records/{dossier.code}/pdf/"),
            api.get(f"{BASE}/exports/{job.code}/"),
            api.get(f"{BASE}/exports/{job.code}/download/"),
            web.get(f"/records/{dossier.code}/pdf/"),
            web.get(f"/exports/{job.code}/download/"),
        ]
        for response in routes:  # read streamed downloads to the end (closing them early
            if response.streaming:  # would close the test's database connection)
                b"".join(response.streaming_content)
        codes = [r.status_code for r in routes]
        if who == "auditor":
            assert codes == [200] * 5, codes
        elif who == "ethics":  # may read a dossier with the source, never another's export
            assert codes == [200, 404, 404, 200, 404], codes
        else:
            assert all(code in (403, 404) for code in codes), (who, codes)


@pytest.mark.django_db
def test_the_api_pages_and_notifications_keep_the_source_and_comments_to_their_readers(
    org: Org,
) -> None:
    declaration = _resolved_confidential_declaration(org)
    for who in EVERYONE:
        api = client_for(org.users[who])
        detail = api.get(declaration_url(declaration))
        events = api.get(declaration_url(declaration, "events"))
        page = client_as(org.users[who]).get(f"/declarations/{declaration.code}/")
        bodies = [r.content.decode() for r in (detail, events, page) if r.status_code == 200]
        assert any(SOURCE in b for b in bodies) == (who in SOURCE_READERS), who
        if who == "servant":
            assert bodies and not any(COMMENT in b for b in bodies)
    notifications_send_pending()
    assert mail.outbox
    for message in mail.outbox:
        assert SOURCE not in message.subject + message.body
        for alternative, _type in getattr(message, "alternatives", []):
            assert SOURCE not in str(alternative)


@pytest.mark.django_db
def test_a_dossier_is_reused_by_get_while_nothing_changed_and_made_anew_by_post(
    org: Org,
) -> None:
    declaration = _resolved_confidential_declaration(org)
    api = client_for(org.head)
    with IMMEDIATE:
        first = api.get(declaration_url(declaration, "dossier") + "?language=ru")
        again = api.get(declaration_url(declaration, "dossier") + "?language=ru")
        assert first["X-Record-Id"] == again["X-Record-Id"]
        assert Record.objects.filter(kind=RecordKind.DOSSIER).count() == 1
        fresh = api.post(declaration_url(declaration, "dossier") + "?language=ru")
        assert fresh.status_code == 200 and fresh["X-Record-Id"] != first["X-Record-Id"]
        # the chain moved: a GET makes a new one
        declaration_comment(declaration=declaration, actor=org.ethics, text="Another note")
        moved = api.get(declaration_url(declaration, "dossier") + "?language=ru")
        assert moved["X-Record-Id"] not in (first["X-Record-Id"], fresh["X-Record-Id"])
        # an hour on, nothing is reused
        with time_machine.travel(timezone.now() + timedelta(hours=2)):
            later = api.get(declaration_url(declaration, "dossier") + "?language=ru")
        assert later["X-Record-Id"] != moved["X-Record-Id"]


@pytest.mark.django_db
def test_dossiers_are_throttled_per_reader(org: Org, settings: Any) -> None:
    declaration = _resolved_confidential_declaration(org)
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "dossier": "2/hour"},
    }
    api = client_for(org.head)
    with IMMEDIATE:
        codes = [api.post(declaration_url(declaration, "dossier")).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        # handing out the reader's own dossier again costs nothing ...
        assert api.get(declaration_url(declaration, "dossier")).status_code == 200
        # ... making another does
        assert api.get(declaration_url(declaration, "dossier") + "?language=kk").status_code == 429
        # the declaration page draws on the same budget, and says so in the reader's language
        page = client_as(org.head, "ru").post(
            f"/declarations/{declaration.code}/dossier/", {"language": "ru"}
        )
        assert page.status_code == 429 and page["Retry-After"]
        # another reader has their own allowance
        assert (
            client_for(org.ethics).post(declaration_url(declaration, "dossier")).status_code == 200
        )
    assert Record.objects.filter(kind=RecordKind.DOSSIER).count() == 3


@pytest.mark.django_db
def test_an_exports_disclosures_are_the_one_rule_read_in_bulk(org: Org) -> None:
    confidential = opened_declaration(org, source_description=SOURCE, source_confidential=True)
    plain = opened_declaration(org, source_description="A letter")
    own = opened_declaration(
        org, opener="head", declarant=org.servants["ethics"], source_confidential=True
    )
    for who in EVERYONE:
        user = org.users[who]
        bulk = permissions.dossier_disclosures(user)
        for declaration in (confidential, plain, own):
            if permissions.can_view_dossier(user, declaration):
                assert bulk(declaration) == permissions.disclosure(user, declaration), (
                    who,
                    declaration.pk,
                )
            else:
                assert bulk(declaration) == permissions.NOTHING, (who, declaration.pk)


@pytest.mark.django_db
def test_an_ethics_commissioner_who_is_the_declarant_sees_neither_source_nor_comments(
    org: Org,
) -> None:
    """A reader's role does not lift what the one rule withholds from the declarant."""
    declaration = opened_declaration(
        org,
        opener="head",
        declarant=org.servants["ethics"],
        source_description=SOURCE,
        source_confidential=True,
    )
    declaration_comment(declaration=declaration, actor=org.head, text=COMMENT)
    shown = permissions.disclosure(org.ethics, declaration)
    assert (shown.source, shown.comments) == (False, False)
    with IMMEDIATE:
        data = (
            client_for(org.ethics)
            .post(declaration_url(declaration, "dossier") + "?language=en")
            .content
        )
    text = flat(text_of(data))
    assert SOURCE not in text and COMMENT not in text
    assert WITHHELD["en"] in text.lower()
    assert "comments are withheld" in text.lower()
    assert permissions.disclosure(org.auditor, declaration).source
    assert not permissions.disclosure(org.head, declaration).source


@pytest.mark.django_db
def test_the_admin_withholds_the_source_and_comments_from_operators(org: Org) -> None:
    """The system operator (a superuser) runs the structure and the accounts; the admin shows
    them the declarations and their trails, not a confidential source or an internal note."""
    declaration = opened_declaration(org, source_description=SOURCE, source_confidential=True)
    declaration_comment(declaration=declaration, actor=org.ethics, text=COMMENT)
    admin = client_as(org.admin)
    pages = [f"/admin/declarations/declaration/{declaration.pk}/change/"]
    pages += [
        f"/admin/declarations/auditevent/{pk}/change/"
        for pk in declaration.events.values_list("pk", flat=True)
    ]
    pages += ["/admin/declarations/declaration/", "/admin/declarations/auditevent/"]
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert SOURCE not in response.content.decode(), url
        assert COMMENT not in response.content.decode(), url
    # what is not confidential stays visible to operators
    plain = opened_declaration(org, source_description="A newspaper article")
    page = admin.get(f"/admin/declarations/declaration/{plain.pk}/change/")
    assert "A newspaper article" in page.content.decode()
