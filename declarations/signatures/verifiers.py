"""Who verifies: this process (``LocalVerifier``) or an NCANode server (``NCANodeVerifier``),
behind one interface, chosen by ``COI_EDS_VERIFIER`` ("local" by default, or "ncanode" with
``COI_EDS_NCANODE_URL``).

NCANode (MIT; Java with the national Kalkan library, or its Go port) is the usual open-source
verifier in Kazakhstan. Its 3.x contract, ``POST /cms/verify``::

    request  {"cms": base64, "data": base64 (detached content), "revocationCheck": ["OCSP", "CRL"]}
    answer   {"status": 200, "message": "OK", "valid": bool,
              "signers": [{"certificates": [CertificateInfo, …], "tsp": {…}?,
                           "status": "VALID|INVALID|INDETERMINATE"?, "subIndication": …?}]}
    CertificateInfo {"valid", "revocations": [{"revoked", "by": "OCSP|CRL", "revocationTime",
                     "reason"}], "notBefore", "notAfter", "keyUsage": "SIGN|AUTH|UNKNOWN",
                     "serialNumber": lower-case hex, "signAlg", "keyUser": ["INDIVIDUAL", …],
                     "subject": {"commonName", "surName", "iin", "bin", "dn", …}, "issuer": {…}}
    errors   HTTP 400/500 with {"status": …, "message": …}

The adapter does not take "valid" on trust. It reads the CMS itself (structure, algorithm,
digest of this step's bytes, signing time), asks NCANode for what needs Kalkan (the signature,
the chain, OCSP/CRL), requires an answer about *this* certificate (same serial, same IIN) with
its revocation checks, and then checks validity, IIN, BIN and role from the certificate in the
CMS, as the local verifier does. An answer without these facts is refused.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Collection
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from declarations.signatures import certificates, conf
from declarations.signatures.cms import parse_detached
from declarations.signatures.results import Refusal, SignatureFacts, SignatureRefused
from declarations.signatures.verify import (
    algorithm_of,
    check_digest,
    check_identity,
    check_validity,
    facts_of,
    signing_time,
    verify_signature,
)


class Verifier(Protocol):
    name: str

    def verify(
        self,
        cms: bytes,
        *,
        content: bytes,
        iin: str | None,
        bin: str | None = None,
        allowed_roles: Collection[str] | None = None,
        at: dt.datetime | None = None,
    ) -> SignatureFacts: ...


class LocalVerifier:
    """``verify_signature`` in this process: pure Python, the configured roots and CRLs."""

    name = "local"

    def verify(
        self,
        cms: bytes,
        *,
        content: bytes,
        iin: str | None,
        bin: str | None = None,
        allowed_roles: Collection[str] | None = None,
        at: dt.datetime | None = None,
    ) -> SignatureFacts:
        return verify_signature(
            cms, content=content, iin=iin, bin=bin, allowed_roles=allowed_roles, at=at
        )


# NCANode's sub-indications (ETSI EN 319 102-1) -> our reasons.
_SUB_INDICATIONS = {
    "NO_SIGNING_CERTIFICATE_FOUND": Refusal.MALFORMED,
    "FORMAT_FAILURE": Refusal.MALFORMED,
    "SIG_CRYPTO_FAILURE": Refusal.BAD_SIGNATURE,
    "CERT_HASH_MISMATCH": Refusal.BAD_SIGNATURE,
    "TIMESTAMP_INVALID": Refusal.BAD_SIGNATURE,
    "OUT_OF_BOUNDS_NO_POE": Refusal.EXPIRED,
    "CHAIN_INCOMPLETE": Refusal.UNTRUSTED_CHAIN,
    "CERT_REVOKED": Refusal.REVOKED,
    "REVOKED_NO_POE": Refusal.REVOKED,
    "REVOCATION_DATA_MISSING": Refusal.REVOCATION_UNKNOWN,
}


def _unavailable(detail: str) -> SignatureRefused:
    return SignatureRefused(Refusal.VERIFIER_UNAVAILABLE, detail=f"NCANode: {detail}")


def _certificate_info(answer: Any) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """The verdict, the one signer and its certificate's facts, or a refusal for an answer
    without them."""
    if not isinstance(answer, dict) or not isinstance(answer.get("valid"), bool):
        raise _unavailable("the answer has no verdict")
    signers = answer.get("signers")
    if not isinstance(signers, list) or len(signers) != 1 or not isinstance(signers[0], dict):
        raise _unavailable("the answer does not describe exactly one signer")
    found = signers[0].get("certificates")
    info = found[0] if isinstance(found, list) and found else None
    if (
        not isinstance(info, dict)
        or not isinstance(info.get("valid"), bool)
        or not isinstance(info.get("serialNumber"), str)
        or not isinstance(info.get("subject"), dict)
        or not isinstance(info.get("issuer"), dict)
        or not isinstance(info.get("revocations"), list)
    ):
        raise _unavailable("the answer lacks the certificate's facts")
    return answer["valid"], signers[0], info


class NCANodeVerifier:
    name = "ncanode"

    def __init__(self, url: str, *, revocation_checks: Collection[str] | None = None) -> None:
        self.url = url.rstrip("/") + "/cms/verify"
        self.revocation_checks = list(revocation_checks or conf.ncanode_revocation())

    def _post(self, cms: bytes, content: bytes) -> Any:
        body = json.dumps(
            {
                "cms": base64.b64encode(cms).decode("ascii"),
                "data": base64.b64encode(content).decode("ascii"),
                "revocationCheck": self.revocation_checks,
            }
        ).encode()
        if not self.url.startswith(("http://", "https://")):
            raise ImproperlyConfigured("COI_EDS_NCANODE_URL must be an http(s) URL")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=conf.http_timeout()) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            error.close()  # it holds the connection
            if 400 <= error.code < 500:
                # NCANode answers 400 for a CMS it cannot read (ClientException).
                raise SignatureRefused(Refusal.MALFORMED, detail=f"NCANode {error.code}") from error
            raise _unavailable(f"HTTP {error.code}") from error
        except (OSError, ValueError) as error:
            raise _unavailable(str(error)) from error

    def verify(
        self,
        cms: bytes,
        *,
        content: bytes,
        iin: str | None,
        bin: str | None = None,
        allowed_roles: Collection[str] | None = None,
        at: dt.datetime | None = None,
    ) -> SignatureFacts:
        parsed = parse_detached(cms)
        algorithm = algorithm_of(parsed)
        check_digest(parsed, algorithm, content)
        signed_at = signing_time(parsed, at)
        cert = parsed.signer_certificate
        valid, signer, info = _certificate_info(self._post(cms, content))
        if info["serialNumber"].lower().lstrip("0") != certificates.serial_hex(cert):
            raise _unavailable("the answer is about another certificate")
        if (info["subject"].get("iin") or None) != certificates.iin(cert):
            raise _unavailable("the answer's IIN differs from the certificate's")
        revocations = [item for item in info["revocations"] if isinstance(item, dict)]
        if any(item.get("revoked") is True for item in revocations):
            raise SignatureRefused(Refusal.REVOKED, detail="NCANode: revoked")
        if not revocations:
            raise SignatureRefused(
                Refusal.REVOCATION_UNKNOWN, detail="NCANode did not check revocation"
            )
        if not (valid and info["valid"] and signer.get("status") in (None, "VALID")):
            reason = _SUB_INDICATIONS.get(str(signer.get("subIndication")), Refusal.BAD_SIGNATURE)
            raise SignatureRefused(reason, detail=f"NCANode: not valid ({signer.get('message')})")
        check_validity([cert], signed_at)
        check_identity(cert, iin=iin, bin=bin, allowed_roles=allowed_roles)
        issuer = info["issuer"].get("commonName") or certificates.common_name(cert.issuer)
        return facts_of(
            cert,
            algorithm=algorithm,
            signed_at=signed_at,
            chain=[issuer],
            crl_number=None,
            verifier=self.name,
        )


def current_verifier() -> Verifier:
    """The verifier ``COI_EDS_VERIFIER`` names."""
    name = conf.verifier_name()
    if name == "local":
        return LocalVerifier()
    if name == "ncanode":
        url = conf.ncanode_url()
        if not url:
            raise ImproperlyConfigured("COI_EDS_VERIFIER=ncanode needs COI_EDS_NCANODE_URL")
        return NCANodeVerifier(url)
    raise ImproperlyConfigured(f'COI_EDS_VERIFIER must be "local" or "ncanode", not {name!r}')
