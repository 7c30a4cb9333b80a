"""A missing or unreadable seal is an error at start-up, not at the first record (issue 17):
the system check coi.E022, and coi.W023 for a development seal with DEBUG off."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from declarations.checks import development_seal_in_production, seal_readable
from tests.seals import PASSPHRASE, write_seal


@pytest.fixture
def production_seal(settings, tmp_path: Path) -> Path:
    settings.COI_SEAL_ALLOW_DEVELOPMENT = False
    settings.COI_SEAL_PKCS12 = str(write_seal(tmp_path / "seal.p12"))
    settings.COI_SEAL_PASSPHRASE = PASSPHRASE
    return Path(settings.COI_SEAL_PKCS12)


def test_a_seal_that_opens_with_its_passphrase_passes(production_seal: Path) -> None:
    assert seal_readable(None) == []


def test_a_development_seal_where_allowed_passes(settings) -> None:
    settings.COI_SEAL_PKCS12 = ""
    settings.COI_SEAL_ALLOW_DEVELOPMENT = True
    assert seal_readable(None) == []


def _error(check_result: list) -> str:
    assert [message.id for message in check_result] == ["coi.E022"]
    return str(check_result[0].msg)


def test_no_seal_and_no_development_seal_says_so(settings) -> None:
    settings.COI_SEAL_PKCS12 = ""
    settings.COI_SEAL_ALLOW_DEVELOPMENT = False
    assert "No seal: COI_SEAL_PKCS12 is not set" in _error(seal_readable(None))


def test_a_missing_seal_file_names_the_path(production_seal: Path, settings) -> None:
    settings.COI_SEAL_PKCS12 = str(production_seal.with_name("moved.p12"))
    message = _error(seal_readable(None))
    assert message == f"The seal file COI_SEAL_PKCS12={settings.COI_SEAL_PKCS12} does not exist."


def test_a_folder_instead_of_the_file_cannot_be_read(production_seal: Path, settings) -> None:
    settings.COI_SEAL_PKCS12 = str(production_seal.parent)
    assert "cannot be read by this process" in _error(seal_readable(None))


@pytest.mark.parametrize("passphrase", ["Tr0ub4dor&3", ""])
def test_a_wrong_or_missing_passphrase_says_so(
    production_seal: Path, settings, passphrase: str
) -> None:
    settings.COI_SEAL_PASSPHRASE = passphrase
    message = _error(seal_readable(None))
    assert "does not open with COI_SEAL_PASSPHRASE" in message
    assert PASSPHRASE not in message  # the message names no passphrase, right or wrong
    assert not passphrase or passphrase not in message


def test_a_file_that_is_not_pkcs12_does_not_open(production_seal: Path, settings) -> None:
    production_seal.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    assert "does not open with COI_SEAL_PASSPHRASE" in _error(seal_readable(None))


def test_a_seal_without_its_key_says_so(production_seal: Path) -> None:
    write_seal(production_seal, with_key=False)
    assert "holds no private key or no certificate" in _error(seal_readable(None))


def test_the_check_stops_any_command_that_runs_the_checks(production_seal: Path, settings) -> None:
    settings.COI_SEAL_PASSPHRASE = "Tr0ub4dor&3"
    with pytest.raises(SystemCheckError, match=r"coi\.E022.*does not open"):
        call_command("check")


def test_a_development_seal_with_debug_off_is_a_deploy_warning(settings) -> None:
    settings.DEBUG = False
    settings.COI_SEAL_PKCS12 = ""
    settings.COI_SEAL_ALLOW_DEVELOPMENT = True
    assert [m.id for m in development_seal_in_production(None)] == ["coi.W023"]
    settings.DEBUG = True
    assert development_seal_in_production(None) == []


def test_the_state_body_s_seal_is_no_deploy_warning(production_seal: Path, settings) -> None:
    settings.DEBUG = False
    assert development_seal_in_production(None) == []
