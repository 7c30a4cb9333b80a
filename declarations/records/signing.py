"""The seal: PAdES signatures on records, behind a small interface (STYLE.md rule 24).

``pdf_sign(pdf=..., reason=...)`` takes bytes and returns bytes. The seal is the state body's
PKCS#12 file (``COI_SEAL_PKCS12``, ``COI_SEAL_PASSPHRASE``); without one, and where allowed
(``COI_SEAL_ALLOW_DEVELOPMENT``, on with DEBUG and in tests), a development seal — a self-signed
CA and a seal certificate it issued — is generated on first use under ``COI_DEV_SEAL_DIR``,
outside the repository, and every page signed with it says so.

The parsed key, the certificate store and the signer are kept per process, and the size of the
signature is reserved up front (``bytes_reserved``): pyHanko otherwise re-parses the key and
signs twice to measure, ~195 ms (RSA) instead of ~35 ms a document. ``COI_TSA_URL`` adds an
RFC 3161 timestamp: PAdES B-T instead of B-B.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator.registry import SimpleCertificateStore

DEV_MARK = "COI development seal"


@dataclass
class Seal:
    signer: signers.SimpleSigner
    certificate: asn1_x509.Certificate
    trust_roots: list[asn1_x509.Certificate]
    development: bool
    timestamper: timestamps.TimeStamper | None = None

    @property
    def subject(self) -> str:
        return str(self.certificate.subject.human_friendly)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate.dump()).hexdigest()

    @property
    def bytes_reserved(self) -> int:
        # DER signature with the chain embedded is ~2–3 KB for P-256, ~4–6 KB for RSA; a
        # timestamp token adds its own chain. Reserved space is hex-encoded in the file.
        return 12_000 + (12_000 if self.timestamper is not None else 0)


def _to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_MARK),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(**allowed: bool) -> x509.KeyUsage:
    """A KeyUsage extension with only the ``allowed`` uses set."""
    uses = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ]
    return x509.KeyUsage(**{use: allowed.get(use, False) for use in uses})


def generate_development_seal(directory: Path) -> Path:
    """Create ``seal.p12`` (no passphrase, mode 0600) and ``ca.pem`` in ``directory`` once.

    Safe when several workers start together: files are written aside and renamed into place;
    the first complete set wins.
    """
    p12_path = directory / "seal.p12"
    if p12_path.exists():
        return p12_path
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    # valid from long before: a seal first made while a test's clock stands in the future (the
    # NCA test keys' validity, issue 15) must still verify at today's date
    since = min(now - dt.timedelta(days=1), dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("COI development CA - not for production")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(since)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("COI development seal - records are not valid"))
        .issuer_name(ca_name)
        .public_key(seal_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(since)
        .not_valid_after(now + dt.timedelta(days=1825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"coi-dev-seal", seal_key, seal_cert, [ca_cert], serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        (Path(tmp) / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        (Path(tmp) / "seal.p12").write_bytes(p12)
        os.chmod(Path(tmp) / "seal.p12", 0o600)
        try:
            os.link(Path(tmp) / "ca.pem", directory / "ca.pem.new")
            os.replace(directory / "ca.pem.new", directory / "ca.pem")
            os.link(Path(tmp) / "seal.p12", p12_path)  # fails if another process won
        except FileExistsError:
            pass
    return p12_path


def load_seal(
    p12: bytes,
    passphrase: bytes | None,
    *,
    development: bool,
    extra_roots: list[asn1_x509.Certificate] | None = None,
    tsa_url: str = "",
) -> Seal:
    key, cert, chain = pkcs12.load_key_and_certificates(p12, passphrase)
    if key is None or cert is None:
        raise ImproperlyConfigured("The seal's PKCS#12 file must hold a key and its certificate.")
    signing_cert = _to_asn1(cert)
    others = [_to_asn1(c) for c in chain]
    signer = signers.SimpleSigner(
        signing_cert=signing_cert,
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([signing_cert, *others]),
    )
    roots = [c for c in others if c.self_signed == "maybe" or c.subject == c.issuer]
    roots += extra_roots or []
    timestamper = timestamps.HTTPTimeStamper(tsa_url, timeout=10) if tsa_url else None
    return Seal(signer, signing_cert, roots, development, timestamper)


@functools.cache
def current_seal() -> Seal:
    """The configured seal, loaded once per process."""
    extra = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for path in filter(None, os.environ.get("COI_SEAL_TRUST_ROOTS", "").split(os.pathsep))
        for c in x509.load_pem_x509_certificates(Path(path).read_bytes())
    ]
    if settings.COI_SEAL_PKCS12:
        return load_seal(
            Path(settings.COI_SEAL_PKCS12).read_bytes(),
            settings.COI_SEAL_PASSPHRASE.encode() or None,
            development=False,
            extra_roots=extra,
            tsa_url=settings.COI_TSA_URL,
        )
    if not settings.COI_SEAL_ALLOW_DEVELOPMENT:
        raise ImproperlyConfigured(
            "No seal: set COI_SEAL_PKCS12 (and COI_SEAL_PASSPHRASE) to the state body's seal."
        )
    path = generate_development_seal(Path(settings.COI_DEV_SEAL_DIR))
    return load_seal(path.read_bytes(), None, development=True, tsa_url=settings.COI_TSA_URL)


class SealProblem(StrEnum):
    """Why the configured seal could not sign a record (``seal_problem``)."""

    NONE_CONFIGURED = "none_configured"  # no COI_SEAL_PKCS12, and no development seal allowed
    MISSING = "missing"  # COI_SEAL_PKCS12 names no file
    UNREADABLE = "unreadable"  # the file is there but cannot be read (permissions, a folder)
    DOES_NOT_OPEN = "does_not_open"  # not with COI_SEAL_PASSPHRASE (or not PKCS#12)
    INCOMPLETE = "incomplete"  # opened, but without a private key or a certificate


def seal_problem() -> SealProblem | None:
    """What would stop ``current_seal()`` from loading the configured seal now, or None.

    Reads and opens the file each time, as the first record would: the system check at
    start-up (``checks.py``, coi.E022) and ``/healthz`` ask here, so a missing file or a wrong
    passphrase is reported before a record fails on it. A development seal (made on first use
    where allowed) is not a problem.
    """
    if not settings.COI_SEAL_PKCS12:
        return None if settings.COI_SEAL_ALLOW_DEVELOPMENT else SealProblem.NONE_CONFIGURED
    try:
        p12 = Path(settings.COI_SEAL_PKCS12).read_bytes()
    except FileNotFoundError:
        return SealProblem.MISSING
    except OSError:
        return SealProblem.UNREADABLE
    try:
        load_seal(p12, settings.COI_SEAL_PASSPHRASE.encode() or None, development=False)
    except ValueError:
        return SealProblem.DOES_NOT_OPEN
    except ImproperlyConfigured:
        return SealProblem.INCOMPLETE
    return None


def pdf_sign(*, pdf: bytes, reason: str, seal: Seal | None = None) -> bytes:
    """Seal ``pdf`` with a PAdES signature (an incremental update: the PDF/A bytes stay)."""
    seal = seal or current_seal()
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name="Seal",
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    signer = signers.PdfSigner(meta, seal.signer, timestamper=seal.timestamper)
    out = signer.sign_pdf(writer, bytes_reserved=seal.bytes_reserved)
    return bytes(out.getbuffer())
