"""Signed records (issue 4): issuing, content in three languages, PDF/A, the seal, tampering."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta
from pathlib import Path

import pikepdf
import pytest
import time_machine
import weasyprint.text.ffi
from django.core.management import call_command
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from declarations.choices import MeasureKind, RecordKind, RecordStatus
from declarations.models import AppendOnlyError, Record
from declarations.records import issuing as record_services
from declarations.records.issuing import dossier_issue, record_issue
from declarations.records.labels import Lang
from declarations.records.verification import verify_pdf
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.measures import measure_consent, measure_implement
from declarations.services.transitions import declaration_submit
from tests.builders import Org, declaration_in, new_draft, opened_declaration, pending_measure
from tests.records import IMMEDIATE, flat, issue_all, page_texts, pdf_of, records_of, text_of

KAZAKH_LETTERS = "әғқңөұүһі"


def test_harfbuzz_subsetting_is_active() -> None:
    # Without Debian's libharfbuzz-subset0 WeasyPrint falls back to fontTools: 2.5x slower.
    assert weasyprint.text.ffi.harfbuzz_subset is not None


def test_each_step_writes_its_pending_record_in_the_same_transaction(org: Org) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    assert [(r.kind, r.status) for r in records_of(declaration)] == [
        (RecordKind.NOTICE, RecordStatus.PENDING),
        (RecordKind.DECISION, RecordStatus.PENDING),
    ]
    notice, decision = records_of(declaration)
    assert notice.event.action == "declaration.submitted"
    assert decision.event.action == "declaration.decided"
    assert notice.verification_code != decision.verification_code
    measure_consent(
        measure=pending_measure(declaration),
        actor=org.servant,
        decision="decline",
        reason="Family reasons",
    )
    assert records_of(declaration)[-1].kind == RecordKind.CONSENT


@pytest.mark.parametrize(
    ("state", "kinds"),
    [
        ("no_conflict", ["notice", "decision"]),
        ("withdrawn", ["notice", "decision"]),
        ("resolved", ["notice", "decision"]),
        ("in_review", ["notice"]),
    ],
)
def test_which_steps_issue_records(org: Org, state: str, kinds: list[str]) -> None:
    declaration = declaration_in(org, state)
    assert [r.kind for r in records_of(declaration)] == kinds


def test_the_hr_order_that_resolves_a_case_issues_a_closing_decision(org: Org) -> None:
    declaration = declaration_in(org, "implementing")
    measure_implement(
        measure=pending_measure(declaration),
        actor=org.hr,
        order_number="17-k",
        order_date=timezone.localdate(),
    )
    assert [r.kind for r in records_of(declaration)] == ["notice", "decision", "decision"]
    issue_all(declaration)
    text = flat(text_of(pdf_of(records_of(declaration)[-1])))
    assert "17-k" in text


def test_records_are_issued_after_commit_through_the_queue(
    org: Org, django_capture_on_commit_callbacks
) -> None:
    declaration = new_draft(org)
    with IMMEDIATE:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            declaration_submit(declaration=declaration, actor=org.servant)
        (record,) = records_of(declaration)
        assert record.status == RecordStatus.PENDING  # nothing rendered inside the transaction
        for callback in callbacks:  # the commit
            callback()
    record.refresh_from_db()
    assert record.status == RecordStatus.ISSUED
    assert len(record.sha256) == 64


def test_an_issued_record_is_immutable_and_issued_once(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    (record,) = issue_all(declaration)
    first = pdf_of(record)
    assert record_issue(record_id=record.pk) == "already issued"
    record.refresh_from_db()
    assert pdf_of(record) == first
    record.last_error = "x"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()


def test_two_workers_racing_issue_one_record(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    (record,) = records_of(declaration)
    data, pages = record_services.record_produce(record)
    other, _ = record_services.record_produce(record)
    assert record_services._store(record, data, pages) == "issued"
    assert record_services._store(record, other, pages) == "issued by another worker"
    record.refresh_from_db()
    assert pdf_of(record) == data
    files = list(Path(record.file.storage.location, "records").rglob(f"{record.code.hex}*"))
    assert len(files) == 1


def test_a_failed_render_is_kept_visible_and_retried(org: Org, monkeypatch) -> None:
    declaration = declaration_in(org, "submitted")
    (record,) = records_of(declaration)

    def broken(record: Record) -> tuple[bytes, int]:
        raise RuntimeError("fonts missing")

    monkeypatch.setattr(record_services, "record_produce", broken)
    with pytest.raises(RuntimeError):
        record_issue(record_id=record.pk)
    record.refresh_from_db()
    assert (record.status, record.attempts) == (RecordStatus.PENDING, 1)
    assert "fonts missing" in record.last_error
    monkeypatch.undo()
    # The sweep leaves a recent attempt alone, and queues it again once it is stale.
    from declarations.records.tasks import records_sweep

    with IMMEDIATE:
        assert records_sweep(now=timezone.now()).requeued == 0
        assert records_sweep(now=timezone.now() + timedelta(minutes=10)).requeued == 1
    record.refresh_from_db()
    assert record.status == RecordStatus.ISSUED
    assert record.last_error == ""


def test_a_record_that_keeps_failing_gives_up_and_an_operator_retries_it(
    org: Org, monkeypatch, settings
) -> None:
    settings.COI_RECORD_MAX_ATTEMPTS = 2
    declaration = declaration_in(org, "submitted")
    (record,) = records_of(declaration)
    monkeypatch.setattr(
        record_services, "record_produce", lambda r: (_ for _ in ()).throw(OSError("disk"))
    )
    for _ in range(2):
        with pytest.raises(OSError):
            record_issue(record_id=record.pk)
    record.refresh_from_db()
    assert record.status == RecordStatus.FAILED
    monkeypatch.undo()
    with IMMEDIATE:
        call_command("issue_records", "--retry-failed", stdout=io.StringIO())
    record.refresh_from_db()
    assert record.status == RecordStatus.ISSUED


# ---- content ----------------------------------------------------------------------------------


FACTS = {
    "en": ["Notice of a conflict of interest", "Registration number", "The matter", "Recusal"],
    "ru": [
        "Уведомление о конфликте интересов",
        "Регистрационный номер",
        "Запрет на осуществление полномочий",
        "Непосредственный руководитель",
        "Родство",
    ],
    "kk": [
        "Мүдделер қақтығысы туралы хабарлама",
        "Тіркеу нөмірі",
        "Өкілеттіктерді жүзеге асыруға тыйым",
        "Тікелей басшы",
        "Туыстық",
    ],
}


@pytest.mark.parametrize("language", ["kk", "ru", "en", "kk-ru"])
def test_the_notice_says_every_fact_in_the_readers_language(org: Org, language: str) -> None:
    declaration = new_draft(
        org,
        matter="Тендер № 42: өнім сатып алу үшін",
        personal_interest="Менің ағам қатысады — ұлттық компания",
        related_persons="Әлібек Құрманғазы, Шаһизада",
    )
    declaration_submit(declaration=declaration, actor=org.servant)
    Record.objects.filter(declaration=declaration).update(language=language)
    (record,) = issue_all(declaration)
    data = pdf_of(record)
    text = flat(text_of(data))
    for lang in language.split("-"):
        for fact in FACTS[lang]:
            assert fact in text, (lang, fact)
    for fact in (
        declaration.registration_number,
        org.servants["servant"].full_name,
        "Chief expert",
        "Тендер № 42: өнім сатып алу үшін",
        "Менің ағам қатысады",
        "Әлібек Құрманғазы, Шаһизада",
        record.verification_code,
    ):
        assert fact in text, fact
    # a long address may wrap at any "/", which text extraction reads as a space
    assert "https://coi.example.kz/verify/" in text.replace(" ", "")
    assert set(KAZAKH_LETTERS) <= set(text.lower())
    assert "Law of the Republic of Kazakhstan No. 410-V" in text or "410-V" in text


def test_the_footer_and_the_development_mark_are_on_every_page(org: Org) -> None:
    declaration = new_draft(org, personal_interest="My brother bids.\n" * 120)
    declaration_submit(declaration=declaration, actor=org.servant)
    (record,) = issue_all(declaration)
    pages = page_texts(pdf_of(record))
    assert len(pages) >= 2
    for page in pages:
        text = flat(page)
        assert "The original of this document is an electronic document" in text
        assert record.verification_code in text
        assert "DEVELOPMENT SEAL" in text
    assert record.pages == len(pages)
    assert record.development_seal


def test_the_decision_states_measures_basis_and_deadlines(org: Org) -> None:
    declaration = declaration_in(org, "in_review")
    declaration_decide(
        declaration=declaration,
        actor=org.manager,
        reason="The brother bids",
        measures=[
            MeasureSpec(
                kind=MeasureKind.REASSIGN, substitute=org.servants["servant2"], matter="Tender 42"
            ),
            MeasureSpec(kind=MeasureKind.OTHER, description="Sell the shares"),
        ],
    )
    issue_all(declaration)
    decision = records_of(declaration, kind=RecordKind.DECISION)[0]
    text = flat(text_of(pdf_of(decision)))
    for fact in (
        "Measures decided",
        "The brother bids",
        "Give the matter to another person",
        org.servants["servant2"].full_name,
        "Sell the shares",
        "Start the review",
        "Decide the measures",
        "met",
        org.servants["manager"].full_name,
        "Legal basis",
    ):
        assert fact in text, fact


def test_the_consent_record_gives_the_answer(org: Org) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    measure_consent(
        measure=pending_measure(declaration),
        actor=org.servant,
        decision="decline",
        reason="I care for my mother here",
    )
    issue_all(declaration)
    consent = records_of(declaration, kind=RecordKind.CONSENT)[0]
    text = flat(text_of(pdf_of(consent)))
    assert "Answer to a proposal of transfer" in text
    assert "Declined" in text and "I care for my mother here" in text
    assert "Vacant 0" in text


def test_the_servants_notice_of_an_other_source_case_hides_a_confidential_source(
    org: Org,
) -> None:
    declaration = opened_declaration(
        org, source_description="Anonymous letter from Ivanov", source_confidential=True
    )
    (notice,) = issue_all(declaration)
    assert "Ivanov" not in text_of(pdf_of(notice))
    dossier = dossier_issue(declaration=declaration, actor=org.auditor, language="en")
    assert "Anonymous letter from Ivanov" in flat(text_of(pdf_of(dossier)))


# ---- the PDF itself ----------------------------------------------------------------------------


def _check_pdfa(data: bytes) -> pikepdf.Pdf:
    pdf = pikepdf.open(io.BytesIO(data))
    meta = pdf.open_metadata()
    assert meta["pdfaid:part"] == "3"
    assert meta["pdfaid:conformance"] == "B"
    assert len(pdf.Root.OutputIntents) == 1
    fonts = 0
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            descriptor = (
                font.DescendantFonts[0].FontDescriptor
                if "/DescendantFonts" in font
                else font.FontDescriptor
            )
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, "font not embedded"
            assert "Record-Sans" in str(descriptor.FontName)  # our bundled DejaVu Sans
            fonts += 1
    assert fonts
    return pdf


def test_records_are_pdfa_with_embedded_fonts_and_pass_qpdf(org: Org, tmp_path: Path) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    measure_consent(measure=pending_measure(declaration), actor=org.servant, decision="accept")
    records = issue_all(declaration)
    records.append(dossier_issue(declaration=declaration, actor=org.auditor, language="kk-ru"))
    assert [r.kind for r in records] == ["notice", "decision", "consent", "dossier"]
    for record in records:
        data = pdf_of(record)
        _check_pdfa(data)
        path = tmp_path / f"{record.kind}.pdf"
        path.write_bytes(data)
        check = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No syntax or stream encoding errors" in check.stdout


def test_every_record_validates_and_any_change_is_caught(org: Org, tmp_path: Path) -> None:
    declaration = declaration_in(org, "resolved")
    records = [
        *issue_all(declaration),
        dossier_issue(declaration=declaration, actor=org.head, language="ru"),
    ]
    for record in records:
        data = pdf_of(record)
        verdict = verify_pdf(data)
        assert verdict.valid, verdict.problems
        assert verdict.signature_intact and verdict.signature_trusted
        assert verdict.record is not None
        assert verdict.record["verification_code"] == record.verification_code

    data = pdf_of(records[0])
    # One byte changed inside the signed content.
    i = data.index(b"/Producer")
    tampered = data[:i] + b"/Producex" + data[i + 9 :]
    verdict = verify_pdf(tampered)
    assert not verdict.valid and not verdict.unaltered and not verdict.signature_intact
    assert verdict.ours  # the signature still names our record
    # An incremental update appended after sealing.
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    verdict = verify_pdf(out.getvalue())
    assert not verdict.valid
    assert verdict.modified_after_signing and not verdict.covers_whole_file
    assert "Something was added to the file after it was sealed." in verdict.problems

    # The offline command says the same.
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(data)
    bad.write_bytes(out.getvalue())
    stdout = io.StringIO()
    call_command("verify_record", str(good), stdout=stdout)
    assert stdout.getvalue().startswith("VALID")
    stdout = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_record", str(bad), stdout=stdout)
    assert exit_.value.code == 1
    assert "NOT VALID" in stdout.getvalue()
    assert "added to the file after it was sealed" in stdout.getvalue()


def test_a_pdf_we_did_not_issue_is_not_valid(org: Org) -> None:
    verdict = verify_pdf(b"%PDF-1.7\nnot really\n%%EOF")
    assert not verdict.valid and not verdict.ours
    assert verdict.problems


def _throwaway_tsa():
    """An RSA timestamping certificate (pyHanko's dummy authority signs with RSA only)."""
    import datetime as dt

    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=9))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )


def test_a_timestamp_authority_makes_it_pades_b_t(org: Org) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    from declarations.records.signing import current_seal, pdf_sign

    seal = current_seal()
    tsa_cert, tsa_key = _throwaway_tsa()
    tsa = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key)
    stamped = type(seal)(seal.signer, seal.certificate, seal.trust_roots, True, tsa)
    declaration = declaration_in(org, "submitted")
    (record,) = records_of(declaration)
    html, _ = record_services.record_html(record, development=True)
    from declarations.records.pdf import render_pdf

    signed = pdf_sign(pdf=render_pdf(html).data, reason="test", seal=stamped)
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    sig = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    status = validate_pdf_signature(
        sig,
        ValidationContext(trust_roots=seal.trust_roots, allow_fetching=False),
        ts_validation_context=ValidationContext(trust_roots=[tsa_cert], allow_fetching=False),
    )
    assert status.intact and status.valid
    assert status.timestamp_validity is not None  # the signature timestamp token: B-T
    assert status.timestamp_validity.trusted


def test_the_dossier_carries_the_signed_records_and_the_whole_story(org: Org) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    from declarations.services.declarations import declaration_comment

    declaration_comment(declaration=declaration, actor=org.ethics, text="Check the tender file")
    records = issue_all(declaration)
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        call_command("process_deadlines", stdout=io.StringIO())
        dossier = dossier_issue(declaration=declaration, actor=org.auditor, language="en")
    data = pdf_of(dossier)
    declaration.refresh_from_db()
    text = flat(text_of(data))
    for fact in (
        "Dossier of a conflict-of-interest case",
        "Check the tender file",
        "Answer the transfer proposal",
        "missed",
        "Deadline missed",
        "Timeline",
        declaration.audit_head,
        "The audit chain verifies",
        org.servants["ethics"].full_name,
    ):
        assert fact in text, fact
    pdf = pikepdf.open(io.BytesIO(data))
    embedded = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
    assert set(embedded) == {f"{r.kind}-{r.verification_code}.pdf" for r in records}
    for record in records:
        inner = embedded[f"{record.kind}-{record.verification_code}.pdf"]
        assert inner == pdf_of(record)
        assert verify_pdf(inner).valid  # each keeps its own seal inside the dossier
    assert verify_pdf(data).valid
    assert dossier.requested_by == org.auditor and dossier.event is None


def test_record_languages_are_checked() -> None:
    with pytest.raises(ValueError):
        Lang("de")
    assert Lang("kk-ru")("Deadline") == "Мерзім / Срок"


def test_operators_see_records_in_the_admin(org: Org, client) -> None:
    declaration_in(org, "submitted")
    client.force_login(org.admin)
    for name in ("record", "exportjob"):
        response = client.get(f"/admin/declarations/{name}/")
        assert response.status_code == 200
    record = Record.objects.get()
    assert client.get(f"/admin/declarations/record/{record.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_a_stored_invisible_control_is_drawn_visibly_on_the_record(org: Org) -> None:
    """Issue 14: text stored before the doors refused format controls (or written around them)
    cannot make a record read in an order its bytes do not say: each is shown as a marker."""
    from declarations.models import Declaration

    declaration = new_draft(org)
    Declaration.objects.filter(pk=declaration.pk).update(matter="Tender \u202e24 rednet\u200b")
    declaration.refresh_from_db()
    declaration_submit(declaration=declaration, actor=org.servant)
    (record,) = issue_all(declaration)
    text = flat(text_of(pdf_of(record)))
    assert "⟦U+202E⟧" in text and "⟦U+200B⟧" in text
    assert "\u202e" not in text and "\u200b" not in text
