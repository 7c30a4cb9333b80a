"""A person's own signatures on a record (issue 15): the block each signed step prints — who
signed, their masked IIN, the certificate, when, and what the verifier found — and the files a
record embeds so anyone can verify them again offline: the detached CMS and the exact statement
it signs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from declarations.choices import AuditAction
from declarations.identifiers import masked
from declarations.models import PersonalSignature
from declarations.records.labels import Lang, when
from declarations.records.pdf import EmbeddedFile

WORDS = {
    "title": _("Personal electronic digital signatures"),
    "intro": _(
        "The people below signed their own acts with their electronic digital signature (EDS) "
        "issued by the National Certification Authority. Each signature and the exact text it "
        "signs are embedded in this file and can be verified again offline."
    ),
    "signer": _("Signer"),
    "iin": _("IIN"),
    "certificate": _("Certificate"),
    "signed_at": _("Signed"),
    "result": _("Verification"),
    "valid": _("valid at the time of signing: chain, revocation list and identity checked"),
    "step": _("Step"),
    "none": _("No step of this case was signed with a personal signature."),
}


def signature_files(signatures: Iterable[PersonalSignature]) -> list[EmbeddedFile]:
    files = []
    for s in signatures:
        stem = f"signature-{s.event.seq}-{s.cms_sha256[:12]}"
        files.append(EmbeddedFile(name=f"{stem}.p7s", data=bytes(s.cms), description=stem))
        files.append(
            EmbeddedFile(
                name=f"{stem}.json",
                data=bytes(s.statement),
                description=f"{stem}: the signed statement",
            )
        )
    return files


def signature_blocks(lang: Lang, signatures: Iterable[PersonalSignature]) -> list[dict[str, Any]]:
    blocks = []
    for s in signatures:
        facts = s.facts
        blocks.append(
            {
                "step": lang.choice(AuditAction, s.event.action),
                "signer": facts.get("signer_name", ""),
                "iin": masked(str(facts.get("iin", ""))),
                "certificate": f"{facts.get('serial', '')} · {facts.get('issuer', '')}",
                "signed_at": when(s.signed_at),
                "result": lang(WORDS["valid"]),
                "file": f"signature-{s.event.seq}-{s.cms_sha256[:12]}.p7s",
            }
        )
    return blocks
