"""The steps from the web pages: filing with files, forms that keep what was typed and answer
in the reader's language, steps lost to someone else's action, and nothing half-written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from declarations.choices import AuditAction, Category, ConflictType, MeasureKind, Role
from declarations.choices import DeclarationState as S
from declarations.models import Attachment, AuditEvent, Declaration, Measure
from declarations.services import measures as measure_services
from declarations.services.transitions import (
    declaration_reassign_reviewer,
    declaration_start_review,
)
from tests.builders import Org, declaration_in, new_draft, pending_measure
from tests.factories import RoleGrantFactory, UserFactory
from tests.web import client_as, field_errors, said, text

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def _notice(**kw: Any) -> dict[str, Any]:
    values = {
        "conflict_type": ConflictType.ACTUAL,
        "category": Category.KINSHIP,
        "matter": "Тендер № 42 на закупку бумаги",
        "personal_interest": "Менің ағам қатысушы.",
        "related_persons": "",
        "aware_since": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "addressee": "manager",
    }
    values.update(kw)
    return values


def _kk(message: str) -> str:
    with translation.override("kk"):
        return translation.gettext(message)


# ---- filing a notice -----------------------------------------------------------------------


def test_filing_with_files_preview_then_confirm(org: Org) -> None:
    client = client_as(org.servant, "kk")
    response = client.post(
        reverse("declarations:declare"),
        {**_notice(), "attachments": [_upload("order.pdf", PDF), _upload("scan.png", PNG)]},
    )
    declaration = Declaration.objects.get(declarant__user=org.servant)
    assert response.status_code == 302
    assert response.url == reverse("declarations:preview", args=[declaration.code])
    assert declaration.state == S.DRAFT
    files = {a.filename: a for a in declaration.attachments.all()}
    assert set(files) == {"order.pdf", "scan.png"}
    assert files["order.pdf"].content_type == "application/pdf"
    preview = client.get(response.url)
    assert "order.pdf" in text(preview) and "Тендер № 42" in text(preview)
    # the file is downloadable by the declarant, never shown inline
    got = client.get(reverse("declarations:attachment", args=[files["order.pdf"].code]))
    # read to the end: the test client then closes the file (and never the test's database
    # connection, as an explicit close() would through ``request_finished``)
    assert b"".join(got.streaming_content) == PDF
    assert got["Content-Disposition"].startswith("attachment")
    assert got["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # filing needs the ticked confirmation
    response = client.post(reverse("declarations:submit", args=[declaration.code]), follow=True)
    assert _kk("Tick the confirmation to file the notice.") in said(response)
    declaration.refresh_from_db()
    assert declaration.state == S.DRAFT
    response = client.post(
        reverse("declarations:submit", args=[declaration.code]), {"confirm": "yes"}, follow=True
    )
    declaration.refresh_from_db()
    assert declaration.state == S.SUBMITTED and declaration.registration_number
    assert declaration.registration_number in " ".join(said(response))
    # the reviewer opens the same file from the declaration page
    manager = client_as(org.manager)
    page = text(manager.get(reverse("declarations:declaration", args=[declaration.code])))
    assert "order.pdf" in page and files["order.pdf"].sha256 in page
    got = manager.get(reverse("declarations:attachment", args=[files["order.pdf"].code]))
    assert got.status_code == 200 and b"".join(got.streaming_content) == PDF
    # a colleague cannot
    other = client_as(org.servant2).get(
        reverse("declarations:attachment", args=[files["order.pdf"].code])
    )
    assert other.status_code == 404


def test_a_refused_file_is_named_with_the_reason_and_the_draft_is_kept(org: Org) -> None:
    client = client_as(org.servant, "kk")
    response = client.post(
        reverse("declarations:declare"),
        {**_notice(), "attachments": [_upload("virus.exe", b"MZ\x90\x00" * 10)]},
        follow=True,
    )
    declaration = Declaration.objects.get(declarant__user=org.servant)
    assert response.redirect_chain[-1][0] == reverse("declarations:edit", args=[declaration.code])
    messages = " ".join(said(response))
    assert "virus.exe" in messages
    assert _kk("Only PDF, PNG and JPEG files can be attached.") in messages
    assert not declaration.attachments.exists()
    # the edit page puts the same refusal next to the file field, and keeps the text (400)
    with override_settings(COI_ATTACHMENT_MAX_BYTES=100):
        response = client.post(
            reverse("declarations:edit", args=[declaration.code]),
            {**_notice(matter="Changed matter"), "attachments": [_upload("big.pdf", PDF * 10)]},
        )
    assert response.status_code == 400
    errors = field_errors(response)
    assert list(errors) == ["attachments"] and "big.pdf" in errors["attachments"][0]
    declaration.refresh_from_db()
    assert declaration.matter == "Changed matter"  # the text was saved; only the file was refused


def test_a_file_comes_off_a_draft_but_stays_on_a_filed_notice(org: Org) -> None:
    client = client_as(org.servant)
    client.post(
        reverse("declarations:declare"), {**_notice(), "attachments": [_upload("a.pdf", PDF)]}
    )
    declaration = Declaration.objects.get(declarant__user=org.servant)
    attachment = declaration.attachments.get()
    edit = client.get(reverse("declarations:edit", args=[declaration.code]))
    assert (
        reverse("declarations:attachment-remove", args=[attachment.code]) in edit.content.decode()
    )
    response = client.post(reverse("declarations:attachment-remove", args=[attachment.code]))
    assert response.url == reverse("declarations:edit", args=[declaration.code])
    assert not declaration.attachments.exists()
    client.post(
        reverse("declarations:edit", args=[declaration.code]),
        {**_notice(), "attachments": [_upload("b.pdf", PDF)]},
    )
    client.post(reverse("declarations:submit", args=[declaration.code]), {"confirm": "yes"})
    kept = declaration.attachments.get()
    response = client.post(reverse("declarations:attachment-remove", args=[kept.code]), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "declarations:declaration", args=[declaration.code]
    )
    assert said(response)[-1] == "A filed notice keeps its files."
    assert Attachment.objects.filter(pk=kept.pk).exists()
    # nobody else can remove it, or learn that it exists
    other = client_as(org.servant2).post(
        reverse("declarations:attachment-remove", args=[kept.code])
    )
    assert other.status_code == 404


def test_bad_input_comes_back_in_kazakh_with_what_was_typed(org: Org) -> None:
    client = client_as(org.servant, "kk")
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(
        reverse("declarations:declare"),
        _notice(personal_interest="", category="nonsense", aware_since=future),
    )
    assert response.status_code == 400
    errors = field_errors(response)
    assert set(errors) == {"personal_interest", "category", "aware_since"}
    assert errors["personal_interest"] == [_kk("This field is required.")]
    assert errors["aware_since"] == [_kk("This date is in the future.")]
    for messages in errors.values():
        for message in messages:
            with translation.override("en"):
                assert message != translation.gettext(message) or message.isascii() is False
    page = response.content.decode()
    assert "Тендер № 42 на закупку бумаги" in page  # kept
    assert 'aria-invalid="true"' in page
    assert not Declaration.objects.exists()  # nothing half-written


# ---- steps and lost races ------------------------------------------------------------------


def test_a_step_someone_else_took_first_says_so_and_shows_the_case_now(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    client = client_as(org.manager, "ru")
    page = client.get(reverse("declarations:declaration", args=[declaration.code]))
    assert 'name="seen_state" value="submitted"' in page.content.decode()
    # meanwhile, in another tab, the review was started
    declaration_start_review(declaration=declaration, actor=org.manager)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("declarations:start-review", args=[declaration.code]),
        {"seen_state": "submitted"},
        follow=True,
    )
    assert response.redirect_chain == [
        (reverse("declarations:declaration", args=[declaration.code]), 302)
    ]
    with translation.override("ru"):
        state = str(S.IN_REVIEW.label)
        expected = translation.gettext(
            "Someone else acted on this case first: it is now “%(state)s”. Nothing was changed."
        ) % {"state": state}
    assert said(response) == [expected]
    assert f'data-state="{S.IN_REVIEW}"' in response.content.decode()
    assert AuditEvent.objects.count() == events


def test_a_case_given_to_another_reviewer_while_deciding(org: Org) -> None:
    """Management took the declaration over, then a second member of management gave it to someone
    else: the first one's decision is refused with who has the declaration now, shows the
    declaration as it is, and writes nothing."""
    second = UserFactory(username="deputy")
    RoleGrantFactory(user=second, body=org.body, role=Role.MANAGEMENT)
    declaration = declaration_in(org, S.IN_REVIEW)
    declaration_reassign_reviewer(
        declaration=declaration, actor=org.head, reviewer=org.head, reason="Mine"
    )
    client = client_as(org.head)
    assert client.get(reverse("declarations:decide", args=[declaration.code])).status_code == 200
    declaration_reassign_reviewer(
        declaration=declaration, actor=second, reviewer=org.servant2, reason="Chairman away"
    )
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("declarations:decide", args=[declaration.code]),
        {
            "seen_state": "in_review",
            "reason": "Conflict confirmed",
            "m0-kind": MeasureKind.OTHER,
            "m0-description": "Sell the shares",
        },
        follow=True,
    )
    assert response.redirect_chain == [
        (reverse("declarations:declaration", args=[declaration.code]), 302)
    ]
    name = org.servants["servant2"].full_name
    assert said(response) == [f"The review of this case is now with {name}. Nothing was changed."]
    assert not Measure.objects.filter(declaration=declaration).exists()
    assert AuditEvent.objects.count() == events


def test_a_reviewer_whose_case_was_taken_over_no_longer_sees_it(org: Org) -> None:
    """The direct manager sees a declaration while it is theirs to review: once management takes it
    over, their open page answers 404 like any declaration outside their scope (DESIGN.md §1)."""
    declaration = declaration_in(org, S.IN_REVIEW)
    client = client_as(org.manager)
    declaration_reassign_reviewer(
        declaration=declaration, actor=org.head, reviewer=org.head, reason="Mine"
    )
    response = client.post(
        reverse("declarations:decide", args=[declaration.code]),
        {"seen_state": "in_review", "reason": "x", "m0-kind": MeasureKind.OTHER},
    )
    assert response.status_code == 404
    assert not Measure.objects.filter(declaration=declaration).exists()


def test_a_closed_case_refuses_a_late_step_with_a_message(org: Org) -> None:
    declaration = declaration_in(org, S.NO_CONFLICT)
    response = client_as(org.manager).post(
        reverse("declarations:no-conflict", args=[declaration.code]),
        {"no_conflict-reason": "again"},
        follow=True,
    )
    assert response.status_code == 200
    assert any("not possible" in m for m in said(response)), said(response)


def test_two_hr_officers_record_the_same_order(org: Org) -> None:
    second = UserFactory(username="hr2")
    RoleGrantFactory(user=second, body=org.body, role=Role.HR)
    declaration = declaration_in(org, S.IMPLEMENTING)
    measure = pending_measure(declaration)
    url = reverse("declarations:implement", args=[measure.code])
    first, late = client_as(org.hr), client_as(second)
    assert late.get(url).status_code == 200
    order = {"order_number": "17-к", "order_date": timezone.localdate().isoformat()}
    assert first.post(url, {**order, "seen_state": declaration.state}).status_code == 302
    response = late.post(url, {**order, "order_number": "18-к"}, follow=True)
    assert said(response) == ["“record the order” is not possible while the measure is “Done”."]
    measure.refresh_from_db()
    assert measure.order_number == "17-к"


def test_a_decision_with_one_bad_measure_writes_nothing(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    events = AuditEvent.objects.count()
    response = client_as(org.manager, "ru").post(
        reverse("declarations:decide", args=[declaration.code]),
        {
            "seen_state": "in_review",
            "reason": "Конфликт подтверждён",
            "m0-kind": MeasureKind.OTHER,
            "m0-description": "Продать акции",
            "m1-kind": MeasureKind.TRANSFER,  # no position: refused
            "m1-proposed_date": (timezone.localdate() + timedelta(days=5)).isoformat(),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Продать акции" in page and "Конфликт подтверждён" in page  # kept
    assert not Measure.objects.exists()
    assert AuditEvent.objects.count() == events
    declaration.refresh_from_db()
    assert declaration.state == S.IN_REVIEW


def test_the_search_box_narrows_the_lists_and_keeps_the_decision_typed(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    response = client_as(org.manager).post(
        reverse("declarations:decide", args=[declaration.code]),
        {
            "search": "1",
            "position_search": "Vacant 2",
            "reason": "Typed before searching",
            "m0-kind": MeasureKind.TRANSFER,
        },
    )
    assert response.status_code == 200
    positions = dict(response.context["rows"][0].fields["position"].choices)
    assert [label for code, label in positions.items() if code] == [
        f"Vacant 2 — {org.vacancies[2].unit.name}"
    ]
    assert "Typed before searching" in response.content.decode()
    assert not Measure.objects.exists()


# ---- addenda and comments ------------------------------------------------------------------


def test_the_declarant_adds_to_a_filed_notice_and_the_reviewer_reads_it(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    client = client_as(org.servant)
    page = client.get(reverse("declarations:declaration", args=[declaration.code])).content.decode()
    assert reverse("declarations:addendum", args=[declaration.code]) in page
    blank = client.post(
        reverse("declarations:addendum", args=[declaration.code]), {"addendum-text": " "}
    )
    assert blank.status_code == 400
    assert "addendum-text" in blank.content.decode() and "open" in blank.content.decode()
    response = client.post(
        reverse("declarations:addendum", args=[declaration.code]),
        {"addendum-text": "My brother withdrew his bid on 3 March."},
        follow=True,
    )
    assert said(response) == ["Your addendum is on the case; the reviewer is notified."]
    declaration.refresh_from_db()
    assert declaration.matter == "Tender 42"  # the filed text is unchanged
    event = AuditEvent.objects.filter(declaration=declaration, action=AuditAction.ADDENDUM).get()
    assert event.data["text"] == "My brother withdrew his bid on 3 March."
    reviewer_page = text(
        client_as(org.manager).get(reverse("declarations:declaration", args=[declaration.code]))
    )
    assert "My brother withdrew his bid on 3 March." in reviewer_page
    # only the declarant adds addenda; others do not even see the form
    other = client_as(org.manager).post(
        reverse("declarations:addendum", args=[declaration.code]), {"addendum-text": "x"}
    )
    assert other.status_code in (302, 403)
    assert (
        AuditEvent.objects.filter(declaration=declaration, action=AuditAction.ADDENDUM).count() == 1
    )


def test_comments_are_for_reviewers_management_and_ethics_not_the_declarant(org: Org) -> None:
    declaration = declaration_in(org, S.IN_REVIEW)
    url = reverse("declarations:comment", args=[declaration.code])
    for who in ("manager", "head", "ethics"):
        response = client_as(org.users[who]).post(url, {"text": f"From {who}"})
        assert response.status_code == 302, who
    assert (
        AuditEvent.objects.filter(declaration=declaration, action=AuditAction.COMMENTED).count()
        == 3
    )
    servant_page = client_as(org.servant).get(
        reverse("declarations:declaration", args=[declaration.code])
    )
    assert url not in servant_page.content.decode()
    client_as(org.servant).post(url, {"text": "Me too"})
    client_as(org.auditor).post(url, {"text": "Audit"})
    assert (
        AuditEvent.objects.filter(declaration=declaration, action=AuditAction.COMMENTED).count()
        == 3
    )


def test_the_servant_declines_a_transfer_with_a_reason(org: Org) -> None:
    declaration = declaration_in(org, S.AWAITING_CONSENT)
    measure = pending_measure(declaration)
    client = client_as(org.servant, "kk")
    url = reverse("declarations:consent", args=[measure.code])
    response = client.post(url, {"decision": "decline", "reason": ""})
    assert response.status_code == 400 and "reason" in field_errors(response)
    response = client.post(url, {"decision": "decline", "reason": "Family reasons"}, follow=True)
    assert said(response) == [_kk("Your answer is recorded.")]
    measure.refresh_from_db()
    assert measure.state == "declined" and measure.answer_reason == "Family reasons"
    again = client.post(url, {"decision": "accept"}, follow=True)
    with translation.override("en"):
        english = measure.get_state_display()
    assert english == "Declined by the servant"
    with translation.override("kk"):
        state = measure.get_state_display()
    assert len(said(again)) == 1 and f"«{state}»" in said(again)[0]  # refused, and why


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_opening_a_case_from_other_sources_hides_a_confidential_source(
    org: Org, language: str
) -> None:
    response = client_as(org.ethics, language).post(
        reverse("declarations:open"),
        {
            **_notice(addressee="manager"),
            "declarant": str(org.servants["servant"].code),
            "source_description": "Anonymous letter No. 7",
            "source_confidential": "on",
        },
    )
    assert response.status_code == 302, field_errors(response)
    declaration = Declaration.objects.get(origin="other_source")
    assert declaration.state == S.SUBMITTED and declaration.declarant == org.servants["servant"]
    ethics_page = text(client_as(org.ethics).get(response.url))
    servant_page = text(client_as(org.servant).get(response.url))
    assert "Anonymous letter No. 7" in ethics_page
    assert "Anonymous letter No. 7" not in servant_page
    assert declaration.registration_number in servant_page


def test_reassigning_the_review(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    url = reverse("declarations:reassign", args=[declaration.code])
    client = client_as(org.head)
    bad = client.post(url, {"reviewer": str(org.head.pk), "reason": ""})
    assert bad.status_code == 400 and set(field_errors(bad)) == {"reason"}
    declarant = client.post(url, {"reviewer": str(org.servant.pk), "reason": "x"})
    assert declarant.status_code == 400 and "reviewer" in field_errors(declarant)
    done = client.post(url, {"reviewer": str(org.servant2.pk), "reason": "Manager on leave"})
    assert done.status_code == 302
    declaration.refresh_from_db()
    assert declaration.reviewer == org.servant2
    inbox = text(client_as(org.servant2).get(reverse("declarations:reviews")))
    assert declaration.registration_number in inbox


def test_the_measure_service_is_the_only_path(org: Org) -> None:
    """The web's consent goes through ``measure_consent`` (the same audit event as the API)."""
    declaration = declaration_in(org, S.AWAITING_CONSENT)
    measure = pending_measure(declaration)
    calls = []
    original = measure_services.measure_consent

    def spy(**kw: Any) -> Any:
        calls.append(kw)
        return original(**kw)

    measure_services.measure_consent = spy  # type: ignore[assignment]
    try:
        client_as(org.servant).post(
            reverse("declarations:consent", args=[measure.code]), {"decision": "accept"}
        )
    finally:
        measure_services.measure_consent = original  # type: ignore[assignment]
    assert len(calls) == 1 and calls[0]["actor"] == org.servant
    assert AuditEvent.objects.filter(
        declaration=declaration, action=AuditAction.CONSENT_ACCEPTED
    ).exists()


def test_a_draft_is_the_declarants_alone(org: Org) -> None:
    draft = new_draft(org)
    for who in ("manager", "head", "ethics", "auditor"):
        assert (
            client_as(org.users[who])
            .get(reverse("declarations:declaration", args=[draft.code]))
            .status_code
            == 404
        ), who


# ---- bulk export ---------------------------------------------------------------------------


def test_an_auditor_starts_an_export_watches_it_and_downloads_it(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    import io
    import zipfile

    from declarations.models import ExportJob
    from tests.records import IMMEDIATE

    declaration_in(org, S.RESOLVED)
    client = client_as(org.auditor, "ru")
    page = client.get(reverse("declarations:exports"))
    assert org.body.name in text(page)
    # queued (no worker yet): the progress page refreshes itself
    response = client.post(reverse("declarations:exports"), {"language": "ru"})
    job = ExportJob.objects.get()
    assert response.url == reverse("declarations:export", args=[job.code])
    progress = client.get(response.url)
    assert '<meta http-equiv="refresh"' in progress.content.decode()
    assert 'id="download-export"' not in progress.content.decode()
    early = client.get(reverse("declarations:export-download", args=[job.code]), follow=True)
    assert said(early) and early.redirect_chain[-1][0] == response.url
    # one body chosen by name, with a worker: done, and the ZIP downloads
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("declarations:exports"), {"language": "en", "body": [org.body.slug]}
        )
    job = ExportJob.objects.get(code=response.url.rstrip("/").rsplit("/", 1)[-1])
    done = client.get(response.url).content.decode()
    assert f'data-status="{job.status}"' in done and job.status == "done"
    assert "refresh" not in done and 'id="download-export"' in done
    got = client.get(reverse("declarations:export-download", args=[job.code]))
    assert got.streaming
    names = zipfile.ZipFile(io.BytesIO(b"".join(got.streaming_content))).namelist()
    assert "register.csv" in names and "SHA256SUMS" in names
    # a body the auditor is not granted is refused next to the field
    bad = client.post(reverse("declarations:exports"), {"language": "en", "body": ["elsewhere"]})
    assert bad.status_code == 400 and "body" in field_errors(bad)
    # another auditor does not see these exports
    from tests.factories import StateBodyFactory

    stranger = UserFactory(username="auditor-elsewhere")
    RoleGrantFactory(user=stranger, body=StateBodyFactory(), role=Role.AUDITOR)
    other = client_as(stranger)
    assert other.get(reverse("declarations:export", args=[job.code])).status_code == 404
    assert other.get(reverse("declarations:export-download", args=[job.code])).status_code == 404
