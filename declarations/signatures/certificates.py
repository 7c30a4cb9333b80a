"""What an NCA certificate says about its holder, read with asn1crypto.

The NCA puts the person's IIN in the subject ``serialNumber`` (``IIN123456789011``), the
organisation's BIN in ``OU`` (``BIN123456789021``), the name in ``CN`` ("SURNAME NAME") with the
patronymic in ``G`` (givenName), and the holder's role in the extended key usage
(1.2.398.3.3.4.1.1 a natural person, 1.2.398.3.3.4.1.2.* an organisation's head, employee with
the right to sign, employee, …) — testpki/README.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from asn1crypto import pem, x509

# The NCA's role OIDs (the names NCANode answers with in ``keyUser``).
ROLE_OIDS = {
    "INDIVIDUAL": "1.2.398.3.3.4.1.1",
    "ORGANIZATION": "1.2.398.3.3.4.1.2",
    "CEO": "1.2.398.3.3.4.1.2.1",
    "CAN_SIGN": "1.2.398.3.3.4.1.2.2",
    "CAN_SIGN_FINANCIAL": "1.2.398.3.3.4.1.2.3",
    "HR": "1.2.398.3.3.4.1.2.4",
    "EMPLOYEE": "1.2.398.3.3.4.1.2.5",
}


def load_certificate_file(path: str | Path) -> Any:
    """A certificate from a DER or PEM file (a ``.cer`` from pki.gov.kz is DER)."""
    data = Path(path).read_bytes()
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return x509.Certificate.load(data, strict=True)


def sha256(cert: Any) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def _attribute(name: Any, key: str) -> str | None:
    value = name.native.get(key)
    if isinstance(value, list):  # a repeated attribute: the NCA never repeats these
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, str) else None


def common_name(name: Any) -> str:
    return _attribute(name, "common_name") or name.human_friendly


def signer_name(cert: Any) -> str:
    """ "SURNAME NAME PATRONYMIC" as the certificate has them (CN, then G)."""
    subject = cert.subject
    parts = [_attribute(subject, "common_name"), _attribute(subject, "given_name")]
    return " ".join(part for part in parts if part) or subject.human_friendly


def _prefixed_number(value: str | None, prefix: str) -> str | None:
    if value and value.startswith(prefix) and value[len(prefix) :].isdigit():
        return value[len(prefix) :]
    return None


def iin(cert: Any) -> str | None:
    return _prefixed_number(_attribute(cert.subject, "serial_number"), "IIN")


def bin_(cert: Any) -> str | None:
    return _prefixed_number(_attribute(cert.subject, "organizational_unit_name"), "BIN")


def extended_key_usage(cert: Any) -> tuple[str, ...]:
    value = cert.extended_key_usage_value
    if value is None:
        return ()
    return tuple(purpose.dotted for purpose in value)


def can_sign_documents(cert: Any) -> bool:
    """A signing key has non-repudiation in its key usage; NCA authentication keys have only
    digitalSignature/keyEncipherment and must not sign a notice or a decision. A certificate
    without the extension says nothing of the kind, and is refused (fail closed)."""
    usage = cert.key_usage_value
    return usage is not None and "non_repudiation" in usage.native


def is_ca(cert: Any) -> bool:
    constraints = cert.basic_constraints_value
    usage = cert.key_usage_value
    return (
        constraints is not None
        and bool(constraints["ca"].native)
        and (usage is None or "key_cert_sign" in usage.native)
    )


def serial_hex(cert: Any) -> str:
    """Lower-case hex without leading zeros, as NCANode prints it."""
    return format(cert.serial_number, "x")


def validity(cert: Any) -> tuple[dt.datetime, dt.datetime]:
    return cert.not_valid_before, cert.not_valid_after


def normalise_number(value: str | None, prefix: str) -> str | None:
    """An IIN or BIN as the caller gives it ("123456789011" or "IIN123456789011") -> digits."""
    if value is None:
        return None
    value = value.strip()
    return value[len(prefix) :] if value.upper().startswith(prefix) else value
