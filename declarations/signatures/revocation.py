"""Was the certificate revoked at the signing time? CRLs (``COI_EDS_CRLS``), and OCSP where
``COI_EDS_OCSP_URL`` is set, behind one interface; each source answers or refuses.

Fail closed: no configured source, a source that cannot answer (a CRL that is missing, not
signed by the certificate's issuer, or past its nextUpdate at the validation time; an OCSP
answer that is unsigned, "unknown" or unreachable) is ``revocation_unknown``, never "not
revoked". A certificate is revoked if an entry's revocation date is at or before the
validation time; a later revocation does not undo an earlier signature.

Parsed CRLs are kept per process and reloaded at their nextUpdate or after
``COI_EDS_CRL_REFRESH_MINUTES``; a CRL's signature is verified once per issuer certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from asn1crypto import core, crl, ocsp
from django.utils import timezone

from declarations.signatures import algorithms, conf
from declarations.signatures.certificates import sha256
from declarations.signatures.results import Refusal, SignatureRefused
from declarations.signatures.trust import signed_by

logger = logging.getLogger(__name__)

_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"


@dataclass(frozen=True)
class RevocationStatus:
    source: str
    crl_number: int | None = None


@dataclass
class ParsedCrl:
    source: str
    sha256: str
    issuer: Any
    this_update: dt.datetime
    next_update: dt.datetime | None
    number: int | None
    delta: bool
    entries: dict[int, tuple[dt.datetime, str | None]]
    certificate_list: Any
    loaded_at: dt.datetime
    verified_by: set[str] = field(default_factory=set)


class RevocationSource(Protocol):
    name: str

    def status(self, *, cert: Any, issuer: Any, at: dt.datetime) -> RevocationStatus:
        """Answer for ``cert`` at ``at``; raise ``SignatureRefused`` (revoked / unknown)."""
        ...


def _unknown(detail: str) -> SignatureRefused:
    return SignatureRefused(Refusal.REVOCATION_UNKNOWN, detail=detail)


def _revoked(detail: str) -> SignatureRefused:
    return SignatureRefused(Refusal.REVOKED, detail=detail)


def _fetch(url: str, *, data: bytes | None = None, content_type: str = "") -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, data=data)  # noqa: S310 - scheme checked above
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=conf.http_timeout()) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as error:
        error.close()  # it holds the connection
        raise OSError(f"HTTP {error.code} from {url}") from None


_lock = threading.Lock()
_crls: dict[str, ParsedCrl] = {}


def reset() -> None:
    with _lock:
        _crls.clear()


def _parse_crl(source: str, data: bytes) -> ParsedCrl:
    certificate_list = crl.CertificateList.load(data, strict=True)
    tbs = certificate_list["tbs_cert_list"]
    entries: dict[int, tuple[dt.datetime, str | None]] = {}
    for entry in tbs["revoked_certificates"]:
        reason = entry.crl_reason_value
        entries[entry["user_certificate"].native] = (
            entry["revocation_date"].native,
            reason.native if reason is not None else None,
        )
    number = certificate_list.crl_number_value
    return ParsedCrl(
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        issuer=certificate_list.issuer,
        this_update=tbs["this_update"].native,
        next_update=tbs["next_update"].native,
        number=number.native if number is not None else None,
        delta=certificate_list.delta_crl_indicator_value is not None,
        entries=entries,
        certificate_list=certificate_list,
        loaded_at=timezone.now(),
    )


def _stale(parsed: ParsedCrl, now: dt.datetime) -> bool:
    refresh = dt.timedelta(minutes=conf.crl_refresh_minutes())
    expired = parsed.next_update is not None and now > parsed.next_update
    return expired or now - parsed.loaded_at > refresh


def load_crl(source: str) -> ParsedCrl | None:
    """The parsed CRL of one configured source, from the per-process cache when still fresh.
    A source that cannot be read is logged and skipped (its absence fails closed later)."""
    now = timezone.now()
    cached = _crls.get(source)
    if cached is not None and not _stale(cached, now):
        return cached
    try:
        is_url = source.startswith(("http://", "https://"))
        data = _fetch(source) if is_url else Path(source).read_bytes()
        parsed = _parse_crl(source, data)
    except (OSError, ValueError, TypeError, KeyError) as error:
        logger.warning("CRL %s unavailable: %s", source, error)
        return cached  # an older copy still answers for times up to its nextUpdate
    if cached is not None and cached.sha256 == parsed.sha256:
        parsed.verified_by = cached.verified_by
    with _lock:
        _crls[source] = parsed
    return parsed


def _signed_by(parsed: ParsedCrl, issuer: Any) -> bool:
    issuer_hash = sha256(issuer)
    if issuer_hash in parsed.verified_by:
        return True
    certificate_list = parsed.certificate_list
    signature_oid = certificate_list["signature_algorithm"]["algorithm"].dotted
    algorithm = algorithms.certificate_algorithm(signature_oid)
    if algorithm is None:
        return False
    good = algorithms.verify(
        algorithm=algorithm,
        key=algorithms.public_key(issuer["tbs_certificate"]["subject_public_key_info"]),
        data=certificate_list["tbs_cert_list"].dump(),
        signature=certificate_list["signature"].native,
    )
    if good:
        parsed.verified_by.add(issuer_hash)
    return good


class CrlSource:
    """The configured CRLs; one instance serves one verification, so each CRL is looked up
    (and, when stale, re-read) once per verification however many certificates it covers."""

    name = "crl"

    def __init__(self) -> None:
        self._loaded: dict[str, ParsedCrl | None] = {}

    def usable(self, issuer: Any) -> list[ParsedCrl]:
        """The configured CRLs of ``issuer`` whose signature is ``issuer``'s."""
        found = []
        for source in conf.crl_sources():
            if source not in self._loaded:
                self._loaded[source] = load_crl(source)
            parsed = self._loaded[source]
            if parsed is None or parsed.issuer != issuer.subject:
                continue
            if _signed_by(parsed, issuer):
                found.append(parsed)
            else:
                logger.warning("CRL %s is not signed by %s", source, issuer.subject.human_friendly)
        return found

    def status(self, *, cert: Any, issuer: Any, at: dt.datetime) -> RevocationStatus:
        crls = self.usable(issuer)
        current = [
            parsed
            for parsed in crls
            if not parsed.delta and parsed.next_update is not None and at <= parsed.next_update
        ]
        if not current:
            raise _unknown(f"no current CRL of {issuer.subject.human_friendly} for {at:%Y-%m-%d}")
        for parsed in crls:
            entry = parsed.entries.get(cert.serial_number)
            if entry is not None and entry[1] != "remove_from_crl" and entry[0] <= at:
                raise _revoked(f"listed in {parsed.source} since {entry[0]:%Y-%m-%d %H:%M}")
        newest = max(current, key=lambda parsed: parsed.this_update)
        return RevocationStatus(source=self.name, crl_number=newest.number)


def _key_hash(cert: Any) -> bytes:
    """SHA-1 of the subjectPublicKey BIT STRING's value (RFC 6960 CertID), read generically
    because asn1crypto cannot parse a GOST key."""
    outer = core.Sequence.load(cert["tbs_certificate"]["subject_public_key_info"].dump())
    return hashlib.sha1(outer[1].contents[1:]).digest()  # noqa: S324 - the CertID's hash


def _same_cert_id(answered: Any, asked: Any) -> bool:
    """Field by field: responders differ in whether SHA-1's NULL parameters are encoded."""
    return (
        all(
            answered[name].native == asked[name].native
            for name in ("issuer_name_hash", "issuer_key_hash", "serial_number")
        )
        and answered["hash_algorithm"]["algorithm"].native == "sha1"
    )


class OcspSource:
    """An RFC 6960 client: one request without a nonce, the answer's signature verified with
    the issuer's key or a responder certificate the issuer signed for OCSP signing."""

    name = "ocsp"

    def __init__(self, url: str) -> None:
        self.url = url

    def _request(self, cert: Any, issuer: Any) -> Any:
        cert_id = ocsp.CertId(
            {
                "hash_algorithm": {"algorithm": "sha1"},
                "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),  # noqa: S324
                "issuer_key_hash": _key_hash(issuer),
                "serial_number": cert.serial_number,
            }
        )
        request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}})
        return cert_id, request.dump()

    def _signed(self, basic: Any, issuer: Any) -> bool:
        """The answer is signed by the issuer, or by a responder certificate in it that the
        issuer signed for OCSP signing and that is valid now."""
        algorithm = algorithms.certificate_algorithm(
            basic["signature_algorithm"]["algorithm"].dotted
        )
        if algorithm is None:
            return False
        now = timezone.now()
        signers = [issuer]
        for candidate in basic["certs"] or []:
            usage = candidate.extended_key_usage_value
            purposes = [oid.dotted for oid in usage] if usage is not None else []
            current = candidate.not_valid_before <= now <= candidate.not_valid_after
            if _OCSP_SIGNING in purposes and current and signed_by(candidate, issuer):
                signers.append(candidate)
        return any(
            algorithms.verify(
                algorithm=algorithm,
                key=algorithms.public_key(signer["tbs_certificate"]["subject_public_key_info"]),
                data=basic["tbs_response_data"].dump(),
                signature=basic["signature"].native,
            )
            for signer in signers
        )

    def status(self, *, cert: Any, issuer: Any, at: dt.datetime) -> RevocationStatus:
        cert_id, body = self._request(cert, issuer)
        try:
            answer = ocsp.OCSPResponse.load(
                _fetch(self.url, data=body, content_type="application/ocsp-request")
            )
            if answer["response_status"].native != "successful":
                raise _unknown(f"OCSP status {answer['response_status'].native}")
            basic = answer["response_bytes"]["response"].parsed
            tbs = basic["tbs_response_data"]
            if not self._signed(basic, issuer):
                raise _unknown("the OCSP answer is not signed by the issuer or its responder")
            now = timezone.now()
            for single in tbs["responses"]:
                if not _same_cert_id(single["cert_id"], cert_id):
                    continue
                next_update = single["next_update"].native
                if next_update is not None and next_update < now:
                    raise _unknown("the OCSP answer is out of date")
                state = single["cert_status"]
                if state.name == "good":
                    return RevocationStatus(source=self.name)
                if state.name == "revoked":
                    revoked_at = state.chosen["revocation_time"].native
                    if revoked_at <= at:
                        raise _revoked(f"OCSP: revoked at {revoked_at:%Y-%m-%d %H:%M}")
                    return RevocationStatus(source=self.name)
                raise _unknown("OCSP: status unknown")
            raise _unknown("the OCSP answer does not name this certificate")
        except SignatureRefused:
            raise
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            raise _unknown(f"OCSP {self.url}: {error}") from error


def revocation_sources() -> list[RevocationSource]:
    """The configured sources; every one of them must answer (an empty list fails closed)."""
    sources: list[RevocationSource] = []
    if conf.crl_sources():
        sources.append(CrlSource())
    url = conf.ocsp_url()
    if url:
        sources.append(OcspSource(url))
    return sources
