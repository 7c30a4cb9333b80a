"""Verifying a personal signature on the server, failing closed (issue 15, part 3).

``verify_signature`` takes the detached CMS that NCALayer returned and the exact bytes the step
records (the canonical JSON the audit hash covers), and either returns the facts the record
shows or raises ``SignatureRefused`` with the first reason, checked in this order:

1. the CMS structure: signedData, one SignerInfo, detached          -> malformed
2. the algorithms: GOST 34.10-2015 512/256 or RSA, fitting the key -> unknown_algorithm
3. ``messageDigest`` equals the digest of ``content``               -> digest_mismatch
4. the signature over the signed attributes, by the certificate    -> bad_signature
5. ``signingTime`` (if present) within the tolerance of ``at``      -> signing_time_mismatch
6. the chain to a configured root, every signature verified        -> untrusted_chain
7. every certificate of the chain valid at the signing time        -> not_yet_valid, expired
8. not revoked then (CRLs, and OCSP where configured)              -> revoked, revocation_unknown
9. a signing key, of the acting person (IIN), of the body (BIN, on an organisation's
   certificate), in an allowed role       -> key_usage, iin_mismatch, bin_mismatch, role_not_allowed

**The signing time.** ``signingTime`` is written by the signer's computer, so it is trusted only
within ``COI_EDS_SIGNING_TIME_TOLERANCE_MINUTES`` of ``at`` (the server's clock when ``at`` is
not given): a holder of a revoked key cannot date a signature before the revocation. The time
checked in 7 and 8 is ``signingTime`` when present, else ``at``; it is ``SignatureFacts.
signed_at``, and re-verifying a stored signature later with ``at=signed_at`` repeats the check.
"""

from __future__ import annotations

import datetime as dt
import hmac
import itertools
from collections.abc import Collection, Sequence
from typing import Any

from django.utils import timezone

from declarations.signatures import algorithms, certificates, conf, revocation, trust
from declarations.signatures.cms import ParsedSignature, parse_detached
from declarations.signatures.results import Refusal, SignatureFacts, SignatureRefused

__all__ = [
    "Refusal",
    "SignatureFacts",
    "SignatureRefused",
    "check_identity",
    "reset_caches",
    "signing_time",
    "verify_signature",
]


def reset_caches() -> None:
    """Forget the parsed trust store, verified CA links and CRLs (tests, the bench)."""
    trust.reset()
    revocation.reset()


def algorithm_of(parsed: ParsedSignature) -> algorithms.Algorithm:
    algorithm = algorithms.cms_algorithm(
        signature_oid=parsed.signature_oid, digest_oid=parsed.digest_oid
    )
    try:
        key = algorithms.public_key(
            parsed.signer_certificate["tbs_certificate"]["subject_public_key_info"]
        )
    except (ValueError, TypeError, KeyError, IndexError):
        key = None
    if algorithm is None or key is None or not algorithms.key_fits(algorithm, key):
        raise SignatureRefused(
            Refusal.UNKNOWN_ALGORITHM,
            detail=f"signature {parsed.signature_oid}, digest {parsed.digest_oid}, "
            f"key {key.key_oid if key else 'unreadable'}",
        )
    return algorithm


def check_digest(parsed: ParsedSignature, algorithm: algorithms.Algorithm, content: bytes) -> None:
    if not hmac.compare_digest(parsed.message_digest, algorithms.digest(algorithm, content)):
        raise SignatureRefused(Refusal.DIGEST_MISMATCH, detail="messageDigest differs")


def signing_time(parsed: ParsedSignature, at: dt.datetime | None) -> dt.datetime:
    """The time of the signature as far as the server can vouch for it (module docstring)."""
    if at is not None and timezone.is_naive(at):
        raise ValueError("at must be timezone-aware")  # a programming error, not a refusal
    reference = at if at is not None else timezone.now()
    claimed = parsed.signing_time
    if claimed is None:
        return reference
    tolerance = dt.timedelta(minutes=conf.signing_time_tolerance_minutes())
    if abs(claimed - reference) > tolerance:
        raise SignatureRefused(
            Refusal.SIGNING_TIME, detail=f"signingTime {claimed:%Y-%m-%d %H:%M:%S}Z, at {reference}"
        )
    return claimed


def check_validity(chain: Sequence[Any], when: dt.datetime) -> None:
    for cert in chain:
        not_before, not_after = certificates.validity(cert)
        if when < not_before:
            raise SignatureRefused(
                Refusal.NOT_YET_VALID, detail=f"{cert.subject.human_friendly} from {not_before}"
            )
        if when > not_after:
            raise SignatureRefused(
                Refusal.EXPIRED, detail=f"{cert.subject.human_friendly} until {not_after}"
            )


def check_revocation(chain: Sequence[Any], when: dt.datetime) -> int | None:
    """Every configured source for the signer's certificate; the CAs' where a CRL of their
    issuer is configured (the NCA publishes no root CRL to configure). The CRL number used."""
    sources = revocation.revocation_sources()
    if not sources:
        raise SignatureRefused(Refusal.REVOCATION_UNKNOWN, detail="no CRL or OCSP configured")
    crl_number = None
    for source in sources:
        status = source.status(cert=chain[0], issuer=chain[1], at=when)
        crl_number = status.crl_number if status.crl_number is not None else crl_number
    crls = next((s for s in sources if isinstance(s, revocation.CrlSource)), None)
    crls = crls or revocation.CrlSource()
    for cert, issuer in itertools.pairwise(chain[1:]):
        if crls.usable(issuer):
            crls.status(cert=cert, issuer=issuer, at=when)
    return crl_number


def check_identity(
    cert: Any, *, iin: str | None, bin: str | None, allowed_roles: Collection[str] | None
) -> None:
    """The certificate is a signing key of the acting person, of the body, in an allowed role.

    ``iin=None`` skips the person (a caller that verifies a signature whoever made it);
    ``bin`` is compared only for an organisation's certificate (a servant may sign with a
    personal one); ``allowed_roles`` are extended-key-usage OIDs, one of which must be present.
    """
    if not certificates.can_sign_documents(cert):
        raise SignatureRefused(Refusal.KEY_USAGE, detail="no non-repudiation key usage")
    wanted_iin = certificates.normalise_number(iin, "IIN")
    if wanted_iin is not None and certificates.iin(cert) != wanted_iin:
        raise SignatureRefused(
            Refusal.IIN_MISMATCH, detail=f"certificate IIN {certificates.iin(cert)}"
        )
    wanted_bin = certificates.normalise_number(bin, "BIN")
    cert_bin = certificates.bin_(cert)
    if wanted_bin is not None and cert_bin is not None and cert_bin != wanted_bin:
        raise SignatureRefused(Refusal.BIN_MISMATCH, detail=f"certificate BIN {cert_bin}")
    roles = certificates.extended_key_usage(cert)
    if allowed_roles is not None and not set(roles) & set(allowed_roles):
        raise SignatureRefused(Refusal.ROLE_NOT_ALLOWED, detail=f"roles {', '.join(roles)}")


def facts_of(
    cert: Any,
    *,
    algorithm: algorithms.Algorithm,
    signed_at: dt.datetime,
    chain: Sequence[str],
    crl_number: int | None,
    verifier: str,
) -> SignatureFacts:
    return SignatureFacts(
        signer_name=certificates.signer_name(cert),
        iin=certificates.iin(cert),
        bin=certificates.bin_(cert),
        role_oids=certificates.extended_key_usage(cert),
        serial=certificates.serial_hex(cert),
        issuer=certificates.common_name(cert.issuer),
        signed_at=signed_at,
        algorithm=algorithm.name,
        certificate_sha256=certificates.sha256(cert),
        chain=tuple(chain),
        verified_at=timezone.now(),
        crl_number=crl_number,
        verifier=verifier,
    )


def verify_signature(
    cms: bytes,
    *,
    content: bytes,
    iin: str | None,
    bin: str | None = None,
    allowed_roles: Collection[str] | None = None,
    at: dt.datetime | None = None,
) -> SignatureFacts:
    """The facts of ``cms``, a detached signature of exactly ``content``, or the first refusal
    (module docstring: the order, and how the signing time is used). Whatever a crafted
    certificate or CMS makes the parsers raise is a refusal (``malformed``), never a crash."""
    if at is not None and timezone.is_naive(at):
        raise ValueError("at must be timezone-aware")  # a programming error, not a refusal
    try:
        return _verify(cms, content=content, iin=iin, bin=bin, allowed_roles=allowed_roles, at=at)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise SignatureRefused(Refusal.MALFORMED, detail=repr(error)) from None


def _verify(
    cms: bytes,
    *,
    content: bytes,
    iin: str | None,
    bin: str | None,
    allowed_roles: Collection[str] | None,
    at: dt.datetime | None,
) -> SignatureFacts:
    parsed = parse_detached(cms)
    algorithm = algorithm_of(parsed)
    check_digest(parsed, algorithm, content)
    cert = parsed.signer_certificate
    key = algorithms.public_key(cert["tbs_certificate"]["subject_public_key_info"])
    if not algorithms.verify(
        algorithm=algorithm, key=key, data=parsed.signed_attributes, signature=parsed.signature
    ):
        raise SignatureRefused(Refusal.BAD_SIGNATURE, detail="the signed attributes do not verify")
    signed_at = signing_time(parsed, at)
    chain = trust.chain_to_root(cert, extra=parsed.certificates)
    check_validity(chain, signed_at)
    crl_number = check_revocation(chain, signed_at)
    check_identity(cert, iin=iin, bin=bin, allowed_roles=allowed_roles)
    return facts_of(
        cert,
        algorithm=algorithm,
        signed_at=signed_at,
        chain=[certificates.common_name(issuer.subject) for issuer in chain[1:]],
        crl_number=crl_number,
        verifier="local",
    )
