"""The server's verification of a personal signature, against the real NCA test files
(issue 15, "What must be shown"), with the time pinned to 2026-12-01.

Each refusal has its own reason; a signature is never "valid" by default.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from asn1crypto import cms as asn1_cms
from gostcrypto.gostsignature import CURVES_R_1323565_1_024_2019, MODE_512
from gostcrypto.gostsignature.gost_34_10_2012 import GOST34102012

from declarations.signatures import algorithms, conf, trust
from declarations.signatures.certificates import load_certificate_file
from declarations.signatures.dev_signer import load_test_key
from declarations.signatures.results import Refusal, SignatureRefused
from declarations.signatures.verify import verify_signature
from tests.eds import (
    AT,
    CAN_SIGN,
    HEAD,
    INDIVIDUAL,
    NOTICE,
    TEST_BIN,
    TESTOV_IIN,
    TESTTOV_IIN,
    nca_name,
    rsa_pki,
    sign,
    use_test_pki,
)

NCA = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022"
ROOT = "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022"


@pytest.fixture(autouse=True)
def test_pki(settings):
    use_test_pki(settings)


def refusal(cms: bytes, content: bytes = NOTICE, **kwargs) -> Refusal:
    kwargs.setdefault("iin", TESTOV_IIN)
    kwargs.setdefault("at", AT)
    with pytest.raises(SignatureRefused) as refused:
        verify_signature(cms, content=content, **kwargs)
    return refused.value.code


def test_a_notice_signed_with_the_valid_individual_key_verifies_and_says_who_signed():
    facts = verify_signature(sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)

    assert facts.signer_name == "ТЕСТОВ ТЕСТ ТЕСТОВИЧ"
    assert facts.iin == TESTOV_IIN
    assert facts.bin is None
    assert INDIVIDUAL in facts.role_oids
    assert facts.serial == "6c425659bd2fc6dc587b871aede1857727cf8451"
    assert facts.issuer == NCA
    assert facts.chain == (NCA, ROOT)
    assert facts.algorithm == "GOST 34.10-2015 512"
    assert facts.signed_at == AT
    assert facts.crl_number == 166
    assert len(facts.certificate_sha256) == 64
    assert json.loads(json.dumps(facts.as_json()))["signed_at"] == "2026-12-01T09:30:00+00:00"


def test_the_iin_may_be_given_with_its_prefix():
    facts = verify_signature(sign(NOTICE), content=NOTICE, iin=f"IIN{TESTOV_IIN}", at=AT)
    assert facts.iin == TESTOV_IIN


def test_the_revoked_individual_key_is_refused_by_the_crl():
    assert refusal(sign(NOTICE, key="individual/revoked")) == Refusal.REVOKED


def test_a_revoked_employee_key_is_refused_too():
    cms = sign(NOTICE, key="legal/revoked/employee")
    assert refusal(cms, iin=TESTTOV_IIN) == Refusal.REVOKED


def test_revocation_counts_from_its_date_not_from_the_crls():
    """The CRL lists legal/valid/employee since 2026-06-02 11:39 (despite its folder's name):
    a signature made before that stays good, one made after is refused."""
    may, july = (dt.datetime(2026, m, d, tzinfo=dt.UTC) for m, d in ((5, 20), (7, 1)))
    before = sign(NOTICE, key="legal/valid/employee", signing_time=may)
    after = sign(NOTICE, key="legal/valid/employee", signing_time=july)
    assert verify_signature(before, content=NOTICE, iin=TESTTOV_IIN, at=may).signed_at == may
    assert refusal(after, iin=TESTTOV_IIN, at=july) == Refusal.REVOKED


def test_a_one_bit_change_to_the_signed_bytes_is_a_digest_mismatch():
    changed = bytes([NOTICE[0] ^ 0x01]) + NOTICE[1:]
    assert refusal(sign(NOTICE), content=changed) == Refusal.DIGEST_MISMATCH


def test_a_signature_over_another_steps_bytes_is_a_digest_mismatch():
    decision = b'{"action":"declaration.decided","case":"3f6c","outcome":"conflict"}'
    assert refusal(sign(decision)) == Refusal.DIGEST_MISMATCH


def test_a_changed_signature_value_is_a_bad_signature():
    cms = bytearray(sign(NOTICE))
    cms[-10] ^= 0x01  # inside the SignerInfo's signature, the CMS's last field
    assert refusal(bytes(cms)) == Refusal.BAD_SIGNATURE


def test_the_signature_in_big_endian_order_does_not_verify():
    """Byte order (testpki/README.md): r_LE || s_LE is what Kalkan writes; r_BE || s_BE made by
    the same key over the same bytes must not pass for it."""
    info = asn1_cms.ContentInfo.load(sign(NOTICE))
    signer = info["content"]["signer_infos"][0]
    value = signer["signature"].native
    signer["signature"] = value[:64][::-1] + value[64:][::-1]
    assert refusal(info.dump(force=True)) == Refusal.BAD_SIGNATURE


def test_another_persons_key_is_an_iin_mismatch():
    cms = sign(NOTICE, key="legal/valid/employee_signright")  # ТЕСТТОВ, IIN …012
    assert refusal(cms, iin=TESTOV_IIN) == Refusal.IIN_MISMATCH


def test_the_right_key_for_another_iin_is_an_iin_mismatch():
    assert refusal(sign(NOTICE), iin="990101300123") == Refusal.IIN_MISMATCH


def test_an_employee_certificate_of_another_bin_is_refused():
    cms = sign(NOTICE, key="legal/valid/employee_signright")
    assert refusal(cms, iin=TESTTOV_IIN, bin="010203040506") == Refusal.BIN_MISMATCH


def test_an_employee_certificate_of_the_bodys_bin_in_an_allowed_role_verifies():
    facts = verify_signature(
        sign(NOTICE, key="legal/valid/employee_signright"),
        content=NOTICE,
        iin=TESTTOV_IIN,
        bin=TEST_BIN,
        allowed_roles={CAN_SIGN, HEAD},
        at=AT,
    )
    assert (facts.bin, facts.iin) == (TEST_BIN, TESTTOV_IIN)
    assert CAN_SIGN in facts.role_oids


def test_a_personal_certificate_is_not_held_to_the_bodys_bin():
    facts = verify_signature(sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, bin=TEST_BIN, at=AT)
    assert facts.bin is None


def test_a_role_not_allowed_for_the_step_is_refused():
    assert refusal(sign(NOTICE), allowed_roles={HEAD}) == Refusal.ROLE_NOT_ALLOWED
    assert refusal(sign(NOTICE), allowed_roles=set()) == Refusal.ROLE_NOT_ALLOWED


def test_a_certificate_used_after_its_validity_is_expired():
    after = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    assert refusal(sign(NOTICE, signing_time=after), at=after) == Refusal.EXPIRED
    assert refusal(sign(NOTICE, signing_time=None), at=after) == Refusal.EXPIRED


def test_a_certificate_used_before_its_validity_is_not_yet_valid():
    before = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert refusal(sign(NOTICE, signing_time=before), at=before) == Refusal.NOT_YET_VALID


def test_a_signing_time_far_from_the_servers_time_is_refused():
    """A holder of a revoked key must not date a signature before the revocation."""
    backdated = sign(NOTICE, key="individual/revoked", signing_time=AT - dt.timedelta(days=300))
    assert refusal(backdated) == Refusal.SIGNING_TIME


def test_without_a_signing_time_the_pinned_time_is_the_signing_time():
    facts = verify_signature(sign(NOTICE, signing_time=None), content=NOTICE, iin=None, at=AT)
    assert facts.signed_at == AT


def _rewrite_signer_oid(cms: bytes, old: str, new: str) -> bytes:
    """Rewrite an OID in the SignerInfo only (it follows the certificates in the CMS)."""
    old_der, new_der = (asn1_cms.ObjectIdentifier(oid).dump() for oid in (old, new))
    assert len(old_der) == len(new_der)
    at = cms.rfind(old_der)
    return cms[:at] + new_der + cms[at + len(old_der) :]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (algorithms.GOST_512_SIGNATURE, "1.2.398.3.10.1.1.2.3.9"),  # a signature OID nobody knows
        (algorithms.GOST_512_SIGNATURE, algorithms.GOST_256_SIGNATURE),  # 256 by a 512-bit key
        (algorithms.STREEBOG_512, "1.2.398.3.10.1.3.9"),  # a digest OID nobody knows
    ],
)
def test_an_unknown_algorithm_is_refused_never_valid(old, new):
    assert refusal(_rewrite_signer_oid(sign(NOTICE), old, new)) == Refusal.UNKNOWN_ALGORITHM


def test_a_chain_to_a_root_we_do_not_trust_is_refused():
    pki = rsa_pki()
    assert refusal(pki.sign(NOTICE)) == Refusal.UNTRUSTED_CHAIN


def test_a_ca_that_borrows_the_ncas_name_is_refused():
    impostor = rsa_pki(root_name=nca_name())
    assert refusal(impostor.sign(NOTICE)) == Refusal.UNTRUSTED_CHAIN


@pytest.mark.parametrize(
    "cms",
    [
        b"",
        b"not a signature",
        b"\x30\x03\x02\x01\x01",
        sign(NOTICE)[:-40],  # truncated
        sign(NOTICE) + b"\x00",  # trailing bytes
    ],
    ids=["empty", "text", "another-structure", "truncated", "trailing-bytes"],
)
def test_a_malformed_cms_is_refused(cms):
    assert refusal(cms) == Refusal.MALFORMED


def test_an_attached_signature_is_refused_as_malformed():
    info = asn1_cms.ContentInfo.load(sign(NOTICE))
    info["content"]["encap_content_info"] = {"content_type": "data", "content": NOTICE}
    assert refusal(info.dump(force=True)) == Refusal.MALFORMED


def test_a_crl_past_its_next_update_is_revocation_unknown():
    """The test CRL's nextUpdate is 2027-02-07; the certificate is still valid in March."""
    march = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
    assert refusal(sign(NOTICE, signing_time=march), at=march) == Refusal.REVOCATION_UNKNOWN


def test_no_revocation_source_is_revocation_unknown(settings):
    settings.COI_EDS_CRLS = []
    assert refusal(sign(NOTICE)) == Refusal.REVOCATION_UNKNOWN


def test_a_missing_crl_file_is_revocation_unknown(settings, tmp_path):
    settings.COI_EDS_CRLS = [str(tmp_path / "gone.crl")]
    assert refusal(sign(NOTICE)) == Refusal.REVOCATION_UNKNOWN


def test_a_crl_not_signed_by_the_issuer_is_not_used(settings, tmp_path):
    forged = tmp_path / "forged.crl"
    forged.write_bytes(rsa_pki(root_name=nca_name()).crl(next_update=AT + dt.timedelta(days=30)))
    settings.COI_EDS_CRLS = [str(forged)]
    assert refusal(sign(NOTICE)) == Refusal.REVOCATION_UNKNOWN


def test_an_rsa_signature_under_a_configured_root_verifies(settings, tmp_path):
    pki = rsa_pki()
    (tmp_path / "root.pem").write_bytes(pki.pem(pki.root))
    (tmp_path / "root.crl").write_bytes(pki.crl(next_update=AT + dt.timedelta(days=30)))
    use_test_pki(
        settings,
        COI_EDS_TRUSTED_ROOTS=[str(conf.TEST_ROOT), str(tmp_path / "root.pem")],
        COI_EDS_CRLS=[str(conf.TEST_CRL), str(tmp_path / "root.crl")],
    )
    facts = verify_signature(pki.sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)
    assert (facts.algorithm, facts.crl_number) == ("RSA SHA-256", 7)


def test_an_authentication_key_may_not_sign(settings, tmp_path):
    pki = rsa_pki(signing_key=False)
    (tmp_path / "root.pem").write_bytes(pki.pem(pki.root))
    (tmp_path / "root.crl").write_bytes(pki.crl(next_update=AT + dt.timedelta(days=30)))
    use_test_pki(
        settings,
        COI_EDS_TRUSTED_ROOTS=[str(tmp_path / "root.pem")],
        COI_EDS_CA_CERTS=[],
        COI_EDS_CRLS=[str(tmp_path / "root.crl")],
    )
    assert refusal(pki.sign(NOTICE)) == Refusal.KEY_USAGE


def test_the_real_chain_verifies_with_the_readmes_byte_order():
    root, nca = load_certificate_file(conf.TEST_ROOT), load_certificate_file(conf.TEST_CA)
    assert trust.signed_by(root, root)
    assert trust.signed_by(nca, root)
    assert not trust.signed_by(root, nca)


def test_the_trust_store_is_read_once_per_process(monkeypatch):
    calls = []
    real = trust.load_certificate_file

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(trust, "load_certificate_file", counting)
    for _ in range(2):
        verify_signature(sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT)
    assert len(calls) == 2  # the root and the CA, once


def test_the_faster_point_arithmetic_agrees_with_gostcrypto():
    """algorithms._FastGost replaces gostcrypto's inverse and point addition only: a signature
    made with it verifies with gostcrypto's own class, over the real certificate's key."""
    private, certificate, curve_oid = load_test_key("individual/valid")
    key = algorithms.public_key(certificate["tbs_certificate"]["subject_public_key_info"])
    signature = algorithms.gost_sign(
        algorithm=algorithms.GOST_512, curve_oid=curve_oid, private_key_le=private, data=NOTICE
    )
    reference = GOST34102012(MODE_512, CURVES_R_1323565_1_024_2019[algorithms.CURVES[curve_oid][0]])
    digest = bytearray(algorithms.digest(algorithms.GOST_512, NOTICE)[::-1])
    assert reference.verify(_big_endian(key.value), digest, _big_endian(signature))


def _big_endian(value: bytes) -> bytearray:
    """x_LE || y_LE (or r_LE || s_LE) -> big-endian halves, as gostcrypto takes them."""
    return bytearray(value[:64][::-1] + value[64:][::-1])


def test_a_naive_validation_time_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_signature(sign(NOTICE), content=NOTICE, iin=TESTOV_IIN, at=AT.replace(tzinfo=None))
