"""Revocation sources: the CRL cache (read once, refreshed at nextUpdate or after the refresh
interval) and OCSP, which must answer too when configured (a fake responder on loopback)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ReasonFlags, ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from declarations.signatures import revocation
from declarations.signatures.results import Refusal, SignatureRefused
from declarations.signatures.verify import verify_signature
from tests.eds import AT, NOTICE, TESTOV_IIN, FakeServer, rsa_pki, sign, use_test_pki


@pytest.fixture(autouse=True)
def test_pki(settings):
    use_test_pki(settings)


@pytest.fixture
def parses(monkeypatch):
    """How many times a CRL file was parsed."""
    calls = []
    real = revocation._parse_crl

    def counting(source, data):
        calls.append(source)
        return real(source, data)

    monkeypatch.setattr(revocation, "_parse_crl", counting)
    return calls


def verify(cms: bytes) -> None:
    verify_signature(cms, content=NOTICE, iin=TESTOV_IIN, at=AT)


def test_the_crl_is_parsed_once_per_process(parses):
    cms = sign(NOTICE)
    verify(cms)
    verify(cms)
    assert len(parses) == 1


def test_the_crl_is_read_again_after_the_refresh_interval(settings, parses):
    settings.COI_EDS_CRL_REFRESH_MINUTES = 0
    cms = sign(NOTICE)
    verify(cms)
    verify(cms)
    assert len(parses) == 2


def test_the_crl_is_read_again_after_its_next_update(parses):
    cms = sign(NOTICE)
    with time_machine.travel(dt.datetime(2026, 12, 1, tzinfo=dt.UTC), tick=False):
        verify(cms)
    with time_machine.travel(dt.datetime(2027, 2, 8, tzinfo=dt.UTC), tick=False):
        verify(cms)  # the same file again: still the CRL No. 166 for a signature of December
    assert len(parses) == 2


@pytest.fixture
def rsa_with_ocsp(settings, tmp_path):
    """An RSA PKI trusted, with a current CRL, and an OCSP responder the test scripts."""
    pki = rsa_pki()
    (tmp_path / "root.pem").write_bytes(pki.pem(pki.root))
    (tmp_path / "root.crl").write_bytes(pki.crl(next_update=AT + dt.timedelta(days=30)))
    with FakeServer() as responder:
        use_test_pki(
            settings,
            COI_EDS_TRUSTED_ROOTS=[str(tmp_path / "root.pem")],
            COI_EDS_CA_CERTS=[],
            COI_EDS_CRLS=[str(tmp_path / "root.crl")],
            COI_EDS_OCSP_URL=responder.url + "/ocsp",
        )
        yield pki, responder


def ocsp_answer(pki, *, status, revoked_at=None, signer=None, delegate=None) -> bytes:
    """An answer about ``pki.leaf``, signed by ``signer``'s root key (``pki``'s by default) or
    by a ``delegate`` (certificate, key) sent along with it."""
    signer = signer or pki
    now = dt.datetime.now(dt.UTC)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=pki.leaf,
        issuer=pki.root,
        algorithm=hashes.SHA1(),  # noqa: S303 - the CertID hash responders use
        cert_status=status,
        this_update=now - dt.timedelta(hours=1),
        next_update=now + dt.timedelta(hours=1),
        revocation_time=revoked_at,
        revocation_reason=ReasonFlags.key_compromise if revoked_at else None,
    )
    if delegate is not None:
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, delegate[0])
        response = builder.certificates([delegate[0]]).sign(delegate[1], hashes.SHA256())
    else:
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer.root)
        response = builder.sign(signer.root_key, hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def refused(pki) -> Refusal:
    with pytest.raises(SignatureRefused) as refusal:
        verify_signature(pki.sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)
    return refusal.value.code


def test_a_good_ocsp_answer_and_a_current_crl_verify(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    responder.answer(ocsp_answer(pki, status=ocsp.OCSPCertStatus.GOOD), content_type="x")
    facts = verify_signature(pki.sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)
    path, headers, body = responder.requests[0]
    assert (path, headers["Content-Type"]) == ("/ocsp", "application/ocsp-request")
    assert ocsp.load_der_ocsp_request(body).serial_number == pki.leaf.serial_number
    assert facts.crl_number == 7


def test_an_ocsp_revocation_before_the_signing_time_is_revoked(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    before = AT - dt.timedelta(days=1)
    responder.answer(ocsp_answer(pki, status=ocsp.OCSPCertStatus.REVOKED, revoked_at=before))
    assert refused(pki) == Refusal.REVOKED


def test_an_ocsp_revocation_after_the_signing_time_leaves_the_signature_good(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    after = AT + dt.timedelta(days=1)
    responder.answer(ocsp_answer(pki, status=ocsp.OCSPCertStatus.REVOKED, revoked_at=after))
    verify_signature(pki.sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)


def test_an_unknown_ocsp_status_is_revocation_unknown(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    responder.answer(ocsp_answer(pki, status=ocsp.OCSPCertStatus.UNKNOWN))
    assert refused(pki) == Refusal.REVOCATION_UNKNOWN


def test_an_ocsp_answer_signed_by_someone_else_is_revocation_unknown(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    responder.answer(ocsp_answer(pki, status=ocsp.OCSPCertStatus.GOOD, signer=rsa_pki()))
    assert refused(pki) == Refusal.REVOCATION_UNKNOWN


def test_an_unreachable_ocsp_responder_is_revocation_unknown(rsa_with_ocsp, settings):
    pki, _ = rsa_with_ocsp
    settings.COI_EDS_OCSP_URL = "http://127.0.0.1:9/ocsp"  # the discard port: refused
    assert refused(pki) == Refusal.REVOCATION_UNKNOWN


def test_an_ocsp_error_answer_is_revocation_unknown(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    responder.answer(b"\x30\x03\x0a\x01\x02")  # OCSPResponse: internalError
    assert refused(pki) == Refusal.REVOCATION_UNKNOWN


def delegated_responder(pki, *, purpose=ExtendedKeyUsageOID.OCSP_SIGNING):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCSP responder")]))
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        .not_valid_after(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        .sign(pki.root_key, hashes.SHA256())
    )
    return cert, key


def test_an_answer_of_a_responder_the_issuer_delegated_to_verifies(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    good = ocsp.OCSPCertStatus.GOOD
    responder.answer(ocsp_answer(pki, status=good, delegate=delegated_responder(pki)))
    verify_signature(pki.sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)


def test_a_responder_without_the_ocsp_signing_purpose_is_not_believed(rsa_with_ocsp):
    pki, responder = rsa_with_ocsp
    delegate = delegated_responder(pki, purpose=ExtendedKeyUsageOID.CLIENT_AUTH)
    responder.answer(ocsp_answer(pki, status=ocsp.OCSPCertStatus.GOOD, delegate=delegate))
    assert refused(pki) == Refusal.REVOCATION_UNKNOWN
