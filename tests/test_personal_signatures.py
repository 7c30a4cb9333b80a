"""The servant and the reviewer sign their own acts with their EDS (issue 15), end to end through
the API: the statement to sign, the step posted with the CMS, the body's policy, refusals that
write nothing, the evidence kept with the event and on the records, and ``verify_record``
re-verifying the embedded signatures offline.

Real NCA test keys (``declarations/signatures/testpki``), with the clock pinned inside their
validity (``tests/eds.py``: AT).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from declarations.choices import AuditAction, SignaturePolicy
from declarations.identifiers import masked
from declarations.models import AuditEvent, Declaration, PersonalSignature, Servant
from declarations.records.verification import embedded_files, verify_pdf
from tests.api import BASE, act, client_for, declaration_url, measure_url, ok
from tests.builders import Org, declaration_in, new_draft, pending_measure
from tests.eds import AT, TEST_BIN, TESTOV_IIN, TESTTOV_IIN, sign, use_test_pki
from tests.records import flat, issue_all, pdf_of, text_of


@pytest.fixture(autouse=True)
def _pinned(settings: Any, org: Org) -> Iterator[None]:
    """The test PKI trusted, the clock at AT, the servant the test certificate's person and the
    manager the test organisation's employee with the right to sign."""
    use_test_pki(settings, COI_EDS_ACCEPT_TEST_IDENTIFIERS=True)
    Servant.objects.filter(pk=org.servants["servant"].pk).update(iin=TESTOV_IIN)
    Servant.objects.filter(pk=org.servants["manager"].pk).update(iin=TESTTOV_IIN)
    org.body.bin = TEST_BIN
    org.body.save()
    with time_machine.travel(AT, tick=False):
        yield


def statement(client: Any, url: str, body: dict[str, Any] | None = None) -> bytes:
    answer = ok(client.post(url, body or {}, format="json"))
    return base64.b64decode(answer["statement"])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def events(declaration: Declaration) -> int:
    return AuditEvent.objects.filter(declaration=declaration).count()


def submit_signed(client: Any, draft: Declaration, shown: bytes) -> Any:
    """The servant files ``draft`` with their signature over the statement they were shown."""
    return ok(
        act(
            client.post,
            declaration_url(draft, "submit"),
            {"signature": b64(sign(shown))},
            format="json",
        )
    )


@pytest.mark.django_db
def test_a_notice_signed_with_the_servants_key_is_filed_with_its_evidence(org: Org) -> None:
    draft = new_draft(org)
    client = client_for(org.servant)
    signed = statement(client, f"{BASE}/declarations/{draft.code}/statement/submit/")
    assert json.loads(signed)["signer_iin"] == TESTOV_IIN
    submit_signed(client, draft, signed)
    event = AuditEvent.objects.get(declaration=draft, action=AuditAction.DECLARATION_SUBMITTED)
    recorded = event.data["signature"]
    assert recorded["statement_sha256"] == hashlib.sha256(signed).hexdigest()
    assert recorded["signer"]["iin"] == masked(TESTOV_IIN)  # events are read by all on the case
    assert TESTOV_IIN not in json.dumps(event.data)
    kept = PersonalSignature.objects.get(event=event)
    assert bytes(kept.statement) == signed and kept.cms_sha256 == recorded["cms_sha256"]
    # the record shows the block and embeds the CMS and the statement; verify_record agrees
    (notice,) = issue_all(draft)
    data = pdf_of(notice)
    text = flat(text_of(data))
    assert "••••••7890••" in text or "7890" in text
    names = set(embedded_files(data))
    assert any(n.endswith(".p7s") for n in names) and any(n.endswith(".json") for n in names)
    verdict = verify_pdf(data)
    assert [s["valid"] for s in verdict.personal_signatures] == [True]
    out = io.StringIO()
    path = _write(data)
    with pytest.raises(SystemExit) as done:
        call_command("verify_record", str(path), stdout=out)
        raise SystemExit(0)
    assert done.value.code == 0 and "personal signature" in out.getvalue()


def _write(data: bytes) -> Any:
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "record.pdf"
    path.write_bytes(data)
    return path


@pytest.mark.django_db
def test_a_signature_over_other_words_is_refused_and_nothing_is_written(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    client = client_for(org.servant)
    url = f"{BASE}/declarations/{declaration.code}/statement/addendum/"
    signed = statement(client, url, {"text": "My cousin also bids."})
    before = events(declaration)
    response = client.post(
        declaration_url(declaration, "addenda"),
        {"text": "My cousin does not bid.", "signature": b64(sign(signed))},
        format="json",
    )
    body = ok(response, 400)
    assert list(body["fields"]) == ["signature"]
    assert events(declaration) == before and not PersonalSignature.objects.exists()


@pytest.mark.django_db
def test_another_persons_key_is_refused(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    client = client_for(org.servant)
    url = f"{BASE}/declarations/{declaration.code}/statement/addendum/"
    signed = statement(client, url, {"text": "More."})
    wrong = sign(signed, key="legal/valid/employee_signright")  # IIN …012, the manager's
    body = ok(
        client.post(
            declaration_url(declaration, "addenda"),
            {"text": "More.", "signature": b64(wrong)},
            format="json",
        ),
        400,
    )
    assert "another person" in body["fields"]["signature"][0]


@pytest.mark.django_db
def test_the_revoked_key_is_refused(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    client = client_for(org.servant)
    signed = statement(
        client, f"{BASE}/declarations/{declaration.code}/statement/addendum/", {"text": "x y"}
    )
    revoked = sign(signed, key="individual/revoked")
    body = ok(
        client.post(
            declaration_url(declaration, "addenda"),
            {"text": "x y", "signature": b64(revoked)},
            format="json",
        ),
        400,
    )
    assert "revoked" in body["fields"]["signature"][0]


@pytest.mark.django_db
def test_the_manager_signs_the_decision_with_the_organisations_key(org: Org) -> None:
    declaration = declaration_in(org, "in_review")
    client = client_for(org.manager)
    body = {"reason": "Give it to a colleague", "measures": [{"kind": "other", "description": "x"}]}
    signed = statement(client, f"{BASE}/declarations/{declaration.code}/statement/decide/", body)
    cms = sign(signed, key="legal/valid/employee_signright")
    ok(
        act(
            client.post,
            declaration_url(declaration, "decide"),
            {**body, "signature": b64(cms)},
            format="json",
        )
    )
    event = AuditEvent.objects.get(declaration=declaration, action=AuditAction.DECIDED)
    assert event.data["signature"]["signer"]["bin"] in (TEST_BIN, f"BIN{TEST_BIN}")


@pytest.mark.django_db
def test_the_servant_signs_the_answer_to_a_transfer(org: Org) -> None:
    declaration = declaration_in(org, "awaiting_consent")
    measure = pending_measure(declaration)
    client = client_for(org.servant)
    signed = statement(
        client, f"{BASE}/measures/{measure.code}/statement/consent/", {"decision": "accept"}
    )
    ok(
        act(
            client.post,
            measure_url(measure, "consent"),
            {"decision": "accept", "signature": b64(sign(signed))},
            format="json",
        )
    )
    assert PersonalSignature.objects.filter(declaration=declaration).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("policy", "signed", "status"),
    [
        (SignaturePolicy.REQUIRED, False, 400),
        (SignaturePolicy.REQUIRED, True, 200),
        (SignaturePolicy.OPTIONAL, False, 200),
        (SignaturePolicy.OFF, True, 400),
        (SignaturePolicy.OFF, False, 200),
    ],
)
def test_the_bodys_policy_per_step(org: Org, policy: str, signed: bool, status: int) -> None:
    org.body.sign_notice = policy
    org.body.save()
    draft = new_draft(org)
    client = client_for(org.servant)
    body: dict[str, str] = {}
    if signed:
        url = f"{BASE}/declarations/{draft.code}/statement/submit/"
        if policy == SignaturePolicy.OFF:  # nothing to sign: the statement is refused too
            assert ok(client.post(url, {}, format="json"), 400)["fields"]["signature"]
            body["signature"] = b64(sign(b"a notice"))
        else:
            body["signature"] = b64(sign(statement(client, url)))
    response = act(client.post, declaration_url(draft, "submit"), body, format="json")
    assert response.status_code == status, response.content
    draft.refresh_from_db()
    assert (draft.state == "submitted") == (status == 200)


@pytest.mark.django_db
def test_the_dossier_lists_every_personal_signature(org: Org) -> None:
    from declarations.records.issuing import dossier_issue

    draft = new_draft(org)
    client = client_for(org.servant)
    text = statement(client, f"{BASE}/declarations/{draft.code}/statement/submit/")
    submit_signed(client, draft, text)
    dossier = dossier_issue(declaration=draft, actor=org.auditor, language="en")
    data = pdf_of(dossier)
    assert "Personal electronic digital signatures" in flat(text_of(data))
    assert any(n.endswith(".p7s") for n in embedded_files(data))


@pytest.mark.django_db
def test_verify_record_finds_a_swapped_signature(org: Org) -> None:
    """The embedded CMS swapped for one over other bytes: the servant's signature is reported
    not valid (``verify_record`` and ``/verify/`` read the same verdict)."""
    import pikepdf

    draft = new_draft(org)
    client = client_for(org.servant)
    text = statement(client, f"{BASE}/declarations/{draft.code}/statement/submit/")
    submit_signed(client, draft, text)
    (notice,) = issue_all(draft)
    original = pdf_of(notice)
    assert [s["valid"] for s in verify_pdf(original).personal_signatures] == [True]
    with pikepdf.open(io.BytesIO(original)) as pdf:
        files = pdf.attachments
        (name,) = [n for n in files if n.endswith(".p7s")]
        files[name] = pikepdf.AttachedFileSpec(pdf, sign(b"other bytes"), filename=name)
        swapped = io.BytesIO()
        pdf.save(swapped)
    (result,) = verify_pdf(swapped.getvalue()).personal_signatures
    assert not result["valid"] and result["problem"].startswith("digest_mismatch")
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_record", str(_write(swapped.getvalue())), stdout=out)
    assert "NOT VALID" in out.getvalue()


@pytest.mark.django_db
def test_a_page_asks_its_own_step_for_the_statement_then_posts_the_signature(org: Org) -> None:
    """What sign.js does: the form posted with ``_statement`` answers the bytes (nothing
    written), the same form posted with the CMS files the addendum with its signature."""
    from django.urls import reverse

    from tests.web import client_as

    declaration = declaration_in(org, "submitted")
    client = client_as(org.servant)
    url = reverse("declarations:addendum", args=[declaration.code])
    form = {"addendum-text": "My cousin also bids.", "seen_state": "submitted"}
    before = events(declaration)
    answer = client.post(url, {**form, "_statement": "1"})
    assert answer["Content-Type"] == "application/json" and events(declaration) == before
    signed = base64.b64decode(answer.json()["statement"])
    assert json.loads(signed)["content"] == {"text": "My cousin also bids."}
    done = client.post(url, {**form, "signature": b64(sign(signed))})
    assert done.status_code == 302
    event = AuditEvent.objects.get(declaration=declaration, action=AuditAction.ADDENDUM)
    assert event.data["signature"]["statement_sha256"] == hashlib.sha256(signed).hexdigest()


@pytest.mark.django_db
def test_the_development_signer_stands_in_only_in_development(org: Org, settings: Any) -> None:
    from django.urls import reverse

    from tests.web import client_as

    declaration = declaration_in(org, "submitted")
    client = client_as(org.servant)
    url = reverse("declarations:addendum", args=[declaration.code])
    form = {"addendum-text": "More.", "seen_state": "submitted", "dev_sign": "1"}
    settings.DEBUG, settings.COI_EDS_DEV_SIGNER = False, True
    refused = client.post(url, form)
    assert refused.status_code == 400 and not PersonalSignature.objects.exists()
    settings.DEBUG = True
    assert client.post(url, form).status_code == 302
    assert PersonalSignature.objects.get().facts["iin"] in (TESTOV_IIN, f"IIN{TESTOV_IIN}")


@pytest.mark.django_db
def test_a_record_verifies_again_long_after_it_was_signed(org: Org) -> None:
    """Offline re-verification is judged at the signing time the CMS carries (issue 15), not
    at the reader's clock: a week later the servant's signature is still valid."""
    draft = new_draft(org)
    client = client_for(org.servant)
    text = statement(client, f"{BASE}/declarations/{draft.code}/statement/submit/")
    submit_signed(client, draft, text)
    (notice,) = issue_all(draft)
    data = pdf_of(notice)
    with time_machine.travel(AT + timedelta(days=7), tick=False):
        assert [s["valid"] for s in verify_pdf(data).personal_signatures] == [True]


@pytest.mark.django_db
def test_a_refused_signature_on_filing_shows_the_preview_again_with_the_reason(org: Org) -> None:
    from django.urls import reverse

    from tests.web import client_as

    org.body.sign_notice = SignaturePolicy.REQUIRED
    org.body.save()
    draft = new_draft(org)
    page = client_as(org.servant, "en").post(
        reverse("declarations:submit", args=[draft.code]), {"confirm": "yes"}
    )
    assert page.status_code == 400
    assert "requires this step to be signed" in page.content.decode()
    draft.refresh_from_db()
    assert draft.state == "draft"
