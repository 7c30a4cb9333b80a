"""The NCANode adapter against a fake NCANode on loopback that replays answers in NCANode 3.x's
documented shape (``tests/fixtures/ncanode/``, the ``/cms/verify`` contract of the NCANode and
NCANode-Go repositories). A "valid" is never taken without the certificate's facts, and the
IIN, BIN and role are checked here whatever NCANode says."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from asn1crypto.core import ObjectIdentifier
from django.core.exceptions import ImproperlyConfigured

from declarations.signatures import algorithms
from declarations.signatures.results import Refusal, SignatureRefused
from declarations.signatures.verifiers import LocalVerifier, NCANodeVerifier, current_verifier
from tests.eds import AT, HEAD, NOTICE, TESTOV_IIN, FakeServer, sign, use_test_pki

ANSWERS = Path(__file__).parent / "fixtures" / "ncanode"


@pytest.fixture(autouse=True)
def test_pki(settings):
    use_test_pki(settings)


@pytest.fixture
def ncanode():
    with FakeServer() as server:
        yield server


def replay(server: FakeServer, name: str, *, status: int = 200) -> None:
    server.answer((ANSWERS / f"{name}.json").read_text(), status=status)


def refused(server: FakeServer, cms: bytes, content: bytes = NOTICE, **kwargs) -> Refusal:
    kwargs.setdefault("iin", TESTOV_IIN)
    with pytest.raises(SignatureRefused) as refusal:
        NCANodeVerifier(server.url).verify(cms, content=content, at=AT, **kwargs)
    return refusal.value.code


def test_a_valid_answer_with_the_certificates_facts_verifies(ncanode):
    replay(ncanode, "cms_verify_valid")
    cms = sign(NOTICE)
    facts = NCANodeVerifier(ncanode.url + "/").verify(cms, content=NOTICE, iin=TESTOV_IIN, at=AT)
    assert (facts.verifier, facts.iin, facts.signer_name) == (
        "ncanode",
        TESTOV_IIN,
        "ТЕСТОВ ТЕСТ ТЕСТОВИЧ",
    )
    assert facts.serial == "6c425659bd2fc6dc587b871aede1857727cf8451"
    path, headers, body = ncanode.requests[0]
    request = json.loads(body)
    assert (path, headers["Content-Type"]) == ("/cms/verify", "application/json")
    assert base64.b64decode(request["cms"]) == cms
    assert base64.b64decode(request["data"]) == NOTICE
    assert request["revocationCheck"] == ["OCSP", "CRL"]


def test_a_valid_answer_without_the_certificates_facts_is_refused(ncanode):
    replay(ncanode, "cms_verify_without_certificates")
    assert refused(ncanode, sign(NOTICE)) == Refusal.VERIFIER_UNAVAILABLE


def test_a_valid_answer_about_another_certificate_is_refused(ncanode):
    replay(ncanode, "cms_verify_valid")  # about individual/valid
    assert refused(ncanode, sign(NOTICE, key="legal/valid/head")) == Refusal.VERIFIER_UNAVAILABLE


def test_a_valid_answer_without_a_revocation_check_is_revocation_unknown(ncanode):
    replay(ncanode, "cms_verify_without_revocation")
    assert refused(ncanode, sign(NOTICE)) == Refusal.REVOCATION_UNKNOWN


def test_a_revoked_answer_is_revoked(ncanode):
    replay(ncanode, "cms_verify_revoked")
    assert refused(ncanode, sign(NOTICE, key="individual/revoked")) == Refusal.REVOKED


def test_an_invalid_answer_keeps_ncanodes_reason(ncanode):
    replay(ncanode, "cms_verify_chain_incomplete")
    assert refused(ncanode, sign(NOTICE)) == Refusal.UNTRUSTED_CHAIN


def test_the_iin_is_checked_here_whatever_ncanode_says(ncanode):
    replay(ncanode, "cms_verify_valid")
    assert refused(ncanode, sign(NOTICE), iin="990101300123") == Refusal.IIN_MISMATCH


def test_the_role_is_checked_here_whatever_ncanode_says(ncanode):
    replay(ncanode, "cms_verify_valid")
    assert refused(ncanode, sign(NOTICE), allowed_roles={HEAD}) == Refusal.ROLE_NOT_ALLOWED


def test_a_signature_over_other_bytes_is_refused_before_asking(ncanode):
    assert refused(ncanode, sign(b"another step")) == Refusal.DIGEST_MISMATCH
    assert ncanode.requests == []


def test_an_unknown_algorithm_is_refused_before_asking(ncanode):
    cms = sign(NOTICE)
    der = ObjectIdentifier(algorithms.GOST_512_SIGNATURE).dump()
    at = cms.rfind(der)  # the SignerInfo's, after the certificate's
    cms = cms[:at] + der[:-1] + b"\x09" + cms[at + len(der) :]  # 1.2.398.3.10.1.1.2.3.9
    assert refused(ncanode, cms) == Refusal.UNKNOWN_ALGORITHM
    assert ncanode.requests == []


def test_an_answer_400_is_a_malformed_signature(ncanode):
    replay(ncanode, "cms_verify_error_400", status=400)
    assert refused(ncanode, sign(NOTICE)) == Refusal.MALFORMED


def test_a_server_error_is_verifier_unavailable(ncanode):
    ncanode.answer('{"status": 500, "message": "Kalkan is not loaded"}', status=500)
    assert refused(ncanode, sign(NOTICE)) == Refusal.VERIFIER_UNAVAILABLE


def test_an_answer_that_is_not_json_is_verifier_unavailable(ncanode):
    ncanode.answer("<html>Bad gateway</html>", content_type="text/html")
    assert refused(ncanode, sign(NOTICE)) == Refusal.VERIFIER_UNAVAILABLE


def test_an_unreachable_ncanode_is_verifier_unavailable():
    with pytest.raises(SignatureRefused) as refusal:
        NCANodeVerifier("http://127.0.0.1:9").verify(
            sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT
        )
    assert refusal.value.code == Refusal.VERIFIER_UNAVAILABLE


def test_the_setting_picks_the_verifier(settings):
    assert isinstance(current_verifier(), LocalVerifier)
    settings.COI_EDS_VERIFIER = "ncanode"
    settings.COI_EDS_NCANODE_URL = "http://ncanode:14579"
    verifier = current_verifier()
    assert isinstance(verifier, NCANodeVerifier)
    assert verifier.url == "http://ncanode:14579/cms/verify"


@pytest.mark.parametrize(
    "configured", [{"COI_EDS_VERIFIER": "ncanode"}, {"COI_EDS_VERIFIER": "kalkan"}]
)
def test_a_verifier_setting_that_cannot_work_is_improperly_configured(settings, configured):
    for name, value in configured.items():
        setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured):
        current_verifier()


def test_the_local_verifier_is_the_same_check():
    facts = LocalVerifier().verify(sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)
    assert facts.verifier == "local"
