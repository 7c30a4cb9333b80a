"""The development signer exists only with DEBUG, its setting and the test root trusted; the
system checks keep it, and the test root, out of production (issue 15, part 5)."""

from __future__ import annotations

import pytest
from django.core import checks

from declarations.signatures import conf
from declarations.signatures.checks import check_signature_settings, register_checks
from declarations.signatures.dev_signer import DevelopmentSignerUnavailable, development_sign
from declarations.signatures.verify import verify_signature
from tests.eds import AT, HEAD, NOTICE, TEST_BIN, TESTOV_IIN, use_test_pki


@pytest.fixture(autouse=True)
def development(settings):
    use_test_pki(settings, DEBUG=True, COI_EDS_DEV_SIGNER=True)


def ids(settings_messages) -> set[str]:
    return {message.id for message in settings_messages}


def test_the_development_signer_signs_a_notice_that_verifies():
    cms = development_sign(NOTICE, at=AT)
    facts = verify_signature(cms, content=NOTICE, iin=TESTOV_IIN, at=AT)
    assert (facts.signer_name, facts.signed_at) == ("ТЕСТОВ ТЕСТ ТЕСТОВИЧ", AT)


def test_it_signs_with_a_named_test_key():
    cms = development_sign(NOTICE, key="legal/valid/head", at=AT)
    facts = verify_signature(
        cms, content=NOTICE, iin=TESTOV_IIN, bin=TEST_BIN, allowed_roles={HEAD}, at=AT
    )
    assert facts.bin == TEST_BIN


def test_an_unknown_key_name_is_an_error():
    with pytest.raises(ValueError, match="unknown test key"):
        development_sign(NOTICE, key="../../etc/passwd", at=AT)


def test_the_development_signer_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(DevelopmentSignerUnavailable):
        development_sign(NOTICE, at=AT)


def test_the_development_signer_refuses_when_its_setting_is_off(settings):
    settings.COI_EDS_DEV_SIGNER = False
    with pytest.raises(DevelopmentSignerUnavailable):
        development_sign(NOTICE, at=AT)


def test_the_development_signer_refuses_when_the_test_root_is_not_trusted(settings):
    settings.COI_EDS_TRUSTED_ROOTS = []
    with pytest.raises(DevelopmentSignerUnavailable):
        development_sign(NOTICE, at=AT)


def test_in_development_the_checks_are_quiet():
    assert check_signature_settings() == []


def test_the_development_signer_without_debug_is_an_error(settings):
    settings.DEBUG = False
    assert "coi.E015" in ids(check_signature_settings())


def test_the_test_root_trusted_without_debug_is_an_error(settings):
    settings.DEBUG = False
    settings.COI_EDS_DEV_SIGNER = False
    messages = check_signature_settings()
    assert ids(messages) == {"coi.E017"}
    assert messages[0].level == checks.ERROR  # its keys and password are public


def test_production_roots_only_raise_nothing(settings):
    settings.DEBUG = False
    settings.COI_EDS_DEV_SIGNER = False
    settings.COI_EDS_TRUSTED_ROOTS = []
    settings.COI_EDS_CA_CERTS = []
    assert check_signature_settings() == []


def test_an_unreadable_trust_store_is_an_error(settings, tmp_path):
    settings.COI_EDS_TRUSTED_ROOTS = [str(tmp_path / "missing.cer")]
    assert "coi.E016" in ids(check_signature_settings())


def test_a_ca_certificate_configured_as_a_root_is_an_error(settings):
    settings.COI_EDS_TRUSTED_ROOTS = [str(conf.TEST_CA)]
    assert "coi.E016" in ids(check_signature_settings())


def test_the_registered_check_runs_with_djangos_checks(settings):
    settings.DEBUG = False
    register_checks()
    assert "coi.E015" in ids(checks.run_checks(tags=[checks.Tags.security]))
