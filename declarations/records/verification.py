"""Is this PDF one of ours, unaltered, sealed by whom, and what does it record?

Two independent checks, both required for ``valid``:

1. the PAdES signature: intact (the signed bytes hash to what the seal signed), made by a seal
   that chains to one of our trust roots, covering the whole file — an edit appended after
   signing (an incremental update) is flagged, and the certification signature forbids any;
2. the bytes: their SHA-256 equals what we stored when we issued the record.

A file whose signature names one of our verification codes but whose bytes differ is reported
as that record, altered. Works offline (``manage.py verify_record FILE``): no fetching of
revocation data for the seal, the trust roots are local.

Beside the verdict, not part of it: each person's own signature a record embeds (issue 15) is
verified again at the signing time it carries, when the file names one of our records (so an
upload we never issued costs nothing), at most ``PERSONAL_MAX`` of them. That check reads the
configured NCA trust store and revocation sources (``COI_EDS_*``); without them it fails
closed and says so, without changing whether the record itself is ours and unaltered.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from declarations.choices import RecordStatus, VerificationProblem
from declarations.identifiers import masked
from declarations.models import Record
from declarations.models.records import normalize_verification_code
from declarations.records.signing import Seal, current_seal
from declarations.signatures.cms import parse_detached
from declarations.signatures.verifiers import current_verifier
from declarations.signatures.verify import SignatureRefused

_CODE_IN_REASON = re.compile(r"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\s*$")


@dataclass
class Verdict:
    valid: bool = False
    ours: bool = False
    unaltered: bool = False
    signature_intact: bool = False
    signature_trusted: bool = False
    covers_whole_file: bool = False
    modified_after_signing: bool = False
    signed_by: str = ""
    signed_at: str | None = None
    development_seal: bool = False
    sha256: str = ""
    record: dict[str, Any] | None = None
    #: for people, in the reader's language; ``problem_codes`` holds the same, one code each
    problems: list[str] = field(default_factory=list)
    problem_codes: list[str] = field(default_factory=list)
    #: each person's own signature embedded in the record, verified again (issue 15)
    personal_signatures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problem(self, code: VerificationProblem, message: str) -> None:
        """Why the file is not valid: the message for people, the code for programs."""
        self.problems.append(message)
        self.problem_codes.append(code.value)


def _describe(record: Record) -> dict[str, Any]:
    declaration = record.declaration
    return {
        "id": str(record.code),
        "kind": record.kind,
        "kind_display": record.get_kind_display(),
        "verification_code": record.verification_code,
        "registration_number": declaration.registration_number,
        "state_body": declaration.body.name,
        "issued_at": record.issued_at.isoformat() if record.issued_at else None,
        "sha256": record.sha256,
        "pages": record.pages,
    }


def record_by_code(code: str) -> Record | None:
    normalized = normalize_verification_code(code)
    if not normalized:
        return None
    return (
        Record.objects.select_related("declaration__body")
        .filter(verification_code=normalized, status=RecordStatus.ISSUED)
        .first()
    )


def _check_signature(data: bytes, verdict: Verdict, seal: Seal) -> str:
    """Fill the signature half of ``verdict``; return the verification code it names."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 - any parse failure means: not a PDF we can read
        verdict.problem(VerificationProblem.UNREADABLE, _("This is not a readable PDF."))
        return ""
    if not signatures:
        verdict.problem(VerificationProblem.UNSIGNED, _("The file carries no signature."))
        return ""
    signature = signatures[0]
    context = ValidationContext(trust_roots=seal.trust_roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, context)
    except Exception:  # noqa: BLE001 - a mangled signature is a failed check, not a crash
        verdict.problem(
            VerificationProblem.SIGNATURE_UNREADABLE, _("The signature cannot be read.")
        )
        return ""
    verdict.signature_intact = bool(status.intact and status.valid)
    verdict.signature_trusted = bool(status.trusted)
    verdict.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    verdict.modified_after_signing = not verdict.covers_whole_file or not status.docmdp_ok
    verdict.signed_by = str(status.signing_cert.subject.human_friendly)
    verdict.signed_at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else None
    verdict.development_seal = "development" in verdict.signed_by.lower()
    if not verdict.signature_intact:
        verdict.problem(
            VerificationProblem.ALTERED,
            _("The signature does not match the content: it was altered."),
        )
    if not verdict.signature_trusted:
        verdict.problem(VerificationProblem.SEAL_UNTRUSTED, _("The seal is not one of ours."))
    if verdict.modified_after_signing:
        verdict.problem(
            VerificationProblem.MODIFIED_AFTER_SIGNING,
            _("Something was added to the file after it was sealed."),
        )
    reason = signature.sig_object.get("/Reason")
    match = _CODE_IN_REASON.search(str(reason)) if reason else None
    return match.group(1) if match else ""


def verify_pdf(data: bytes, *, seal: Seal | None = None) -> Verdict:
    seal = seal or current_seal()
    verdict = Verdict(sha256=hashlib.sha256(data).hexdigest())
    code = _check_signature(data, verdict, seal)
    record = (
        Record.objects.select_related("declaration__body")
        .filter(sha256=verdict.sha256, status=RecordStatus.ISSUED)
        .first()
    )
    if record is not None:
        verdict.ours = verdict.unaltered = True
    elif code and (record := record_by_code(code)) is not None:
        verdict.ours = True
        verdict.problem(
            VerificationProblem.BYTES_DIFFER,
            _("The file names our record %(code)s, but its bytes differ from what we issued.")
            % {"code": code},
        )
    else:
        verdict.problem(VerificationProblem.NOT_ISSUED, _("We did not issue this file."))
    if record is not None:
        verdict.record = _describe(record)
    if verdict.ours:
        verdict.personal_signatures = personal_signatures_in(data)
    verdict.valid = (
        verdict.ours
        and verdict.unaltered
        and verdict.signature_intact
        and verdict.signature_trusted
        and not verdict.modified_after_signing
    )
    return verdict


#: the most personal signatures one record carries (a dossier: every signed step of a case)
PERSONAL_MAX = 50


def embedded_files(data: bytes) -> dict[str, bytes]:
    """The files a record embeds (PDF/A-3 attachments), by name; read with pyHanko, so the
    offline check needs nothing the product does not already install."""
    files = {}
    try:
        root = PdfFileReader(BytesIO(data), strict=False).root
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1].get_object()
            stream = spec["/EF"]["/F"].get_object()
            files[str(names[i])] = bytes(stream.data)
    except (KeyError, TypeError, ValueError, AttributeError, PdfReadError):
        return files  # what could be read; a crafted file is no crash
    return files


def personal_signatures_in(data: bytes) -> list[dict[str, Any]]:
    """Verify again, offline, each person's signature a record embeds (issue 15): the CMS
    (``signature-….p7s``) over the statement beside it (``….json``), for the IIN the statement
    names, with validity and revocation judged at the signing time the CMS carries."""
    files = embedded_files(data)
    found: list[dict[str, Any]] = []
    for name, cms in sorted(files.items()):
        if not name.endswith(".p7s") or len(found) >= PERSONAL_MAX:
            continue
        statement = files.get(name.removesuffix(".p7s") + ".json", b"")
        result: dict[str, Any] = {"file": name, "valid": False, "signer": "", "problem": ""}
        try:
            iin = str(json.loads(statement)["signer_iin"])
            # judged at the signing time the CMS carries, so a record stays verifiable after
            # the certificate expires or is revoked later
            at = parse_detached(cms).signing_time
            facts = current_verifier().verify(cms, content=statement, iin=iin, at=at)
        except SignatureRefused as refused:
            result["problem"] = f"{refused.code}: {refused.message}"
        except (ValueError, KeyError, TypeError):
            result["problem"] = _("The signed statement is missing or unreadable.")
        else:
            result.update(valid=True, signer=facts.signer_name, iin=masked(facts.iin or ""))
            result["signed_at"] = facts.signed_at.isoformat() if facts.signed_at else None
        found.append(result)
    return found
