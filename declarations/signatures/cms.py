"""Reading and writing the detached CMS (CAdES-BES) that NCALayer returns.

NCALayer's ``sign`` with ``format: "cms"`` and ``encapsulate: false`` returns a ContentInfo
``signedData`` with no encapsulated content, the signer's certificate, and one SignerInfo whose
signed attributes are ``contentType`` (id-data), ``signingTime`` and ``messageDigest`` — the
shape of a CMS that Kalkan made with the test CA, and the shape ``build_detached`` writes. The
signature covers the DER of the signed attributes with the SET OF tag (RFC 5652 §5.4), not the
content: the content enters only through ``messageDigest``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core

from declarations.signatures.algorithms import Algorithm
from declarations.signatures.results import Refusal, SignatureRefused

_KNOWN_ATTRIBUTES = ("content_type", "message_digest", "signing_time")


@dataclass(frozen=True)
class ParsedSignature:
    signer_info: Any
    signer_certificate: Any
    certificates: tuple[Any, ...]
    signature_oid: str
    digest_oid: str
    signed_attributes: bytes  # DER, SET OF tag: the bytes the signature covers
    message_digest: bytes
    signing_time: dt.datetime | None
    signature: bytes


def _malformed(detail: str) -> SignatureRefused:
    return SignatureRefused(Refusal.MALFORMED, detail=detail)


def _attributes(signer_info: Any) -> dict[str, Any]:
    attributes = signer_info["signed_attrs"]
    if isinstance(attributes, core.Void) or len(attributes) == 0:
        raise _malformed("no signed attributes")
    found: dict[str, Any] = {}
    for attribute in attributes:
        name = attribute["type"].native
        values = attribute["values"]
        if name in found or (name in _KNOWN_ATTRIBUTES and len(values) != 1):
            raise _malformed(f"attribute {name} repeated or with {len(values)} values")
        found[name] = values[0] if len(values) else None
    for required in ("content_type", "message_digest"):
        if required not in found:
            raise _malformed(f"no {required} attribute")
    if found["content_type"].native != "data":
        raise _malformed("contentType is not id-data")
    return found


def _signer_certificate(signer_info: Any, certificates: Iterable[Any]) -> Any:
    sid = signer_info["sid"]
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                cert.issuer == wanted["issuer"]
                and cert.serial_number == wanted["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    raise _malformed("the signer's certificate is not in the CMS")


def parse_detached(data: bytes) -> ParsedSignature:
    """The parts of a detached CMS that verification needs; anything else is ``malformed``."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise _malformed(f"content type {info['content_type'].native}")
        signed = info["content"]
        encapsulated = signed["encap_content_info"]
        if encapsulated["content_type"].native != "data":
            raise _malformed("the signed content is not id-data")
        if encapsulated["content"].native is not None:
            raise _malformed("the content is encapsulated; a detached signature is expected")
        if len(signed["signer_infos"]) != 1:
            raise _malformed(f"{len(signed['signer_infos'])} signers; exactly one is expected")
        signer_info = signed["signer_infos"][0]
        certificates = tuple(
            choice.chosen for choice in signed["certificates"] if choice.name == "certificate"
        )
        attributes = _attributes(signer_info)
        signing_time = attributes.get("signing_time")
        raw_attributes = signer_info["signed_attrs"].dump()
        return ParsedSignature(
            signer_info=signer_info,
            signer_certificate=_signer_certificate(signer_info, certificates),
            certificates=certificates,
            signature_oid=signer_info["signature_algorithm"]["algorithm"].dotted,
            digest_oid=signer_info["digest_algorithm"]["algorithm"].dotted,
            signed_attributes=b"\x31" + raw_attributes[1:],  # [0] IMPLICIT -> SET OF
            message_digest=attributes["message_digest"].native,
            signing_time=signing_time.native if signing_time is not None else None,
            signature=signer_info["signature"].native,
        )
    except SignatureRefused:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as error:
        # asn1crypto parses lazily: a broken structure surfaces as any of these on access.
        raise _malformed(f"{type(error).__name__}: {error}") from error


def _algorithm_identifier(oid: str) -> dict[str, Any]:
    return {"algorithm": oid, "parameters": core.Null()}


def build_detached(
    *,
    content_digest: bytes,
    certificate: Any,
    algorithm: Algorithm,
    sign: Callable[[bytes], bytes],
    signing_time: dt.datetime | None,
    extra_certificates: Iterable[Any] = (),
) -> bytes:
    """A detached CMS shaped like NCALayer's: ``sign`` receives the DER of the signed
    attributes and returns the signature value in the algorithm's wire format."""
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [content_digest]}),
    ]
    if signing_time is not None:
        # RFC 5652 §11.3: UTCTime up to 2049.
        value = cms.Time({"utc_time": signing_time.astimezone(dt.UTC)})
        attributes.append(cms.CMSAttribute({"type": "signing_time", "values": [value]}))
    # DER orders a SET OF by the encodings of its elements (X.690 §11.6).
    attributes.sort(key=lambda attribute: attribute.dump())
    signed_attributes = cms.CMSAttributes(attributes)
    to_be_signed = signed_attributes.dump()
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": certificate.issuer,
                        "serial_number": certificate.serial_number,
                    }
                }
            ),
            "digest_algorithm": _algorithm_identifier(algorithm.digest_oid),
            "signed_attrs": signed_attributes,
            "signature_algorithm": _algorithm_identifier(algorithm.signature_oid),
            "signature": sign(to_be_signed),
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [_algorithm_identifier(algorithm.digest_oid)],
            "encap_content_info": {"content_type": "data"},
            "certificates": [certificate, *extra_certificates],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())
