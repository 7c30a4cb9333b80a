"""A person's own electronic signature (ЭЦП) on a step (issue 15).

What is signed is a *statement*: the canonical JSON (RFC 8785, the audit hash's encoding) of
the declaration's public id, the step, the signer's IIN and what the person authored in it — the
notice's text and files, an addendum, the answer to a transfer, the reasons and measures of a
decision. The server is the only one that encodes it: a client asks the step itself for the
statement of the input it is about to post (the step run with ``StatementOnly``, which stops
once it has encoded it), has NCALayer sign those bytes (detached CMS), and posts the input with
the CMS; the step encodes the statement again from the posted input, so a signature over
anything else — another step's bytes, a changed word — fails as a digest mismatch. The event
records the hashes of the statement and of the CMS and what the verifier established (the IIN
masked), inside the hashed event data; the statement and the CMS are kept beside it
(``PersonalSignature``).

Each state body says per step whether a signature is not used, optional or required
(``StateBody.sign_*``). Verification fails closed: any refusal is a 400 at the ``signature``
field with the verifier's reason, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from declarations.audit_chain import canonical_bytes
from declarations.choices import SignaturePolicy
from declarations.identifiers import masked
from declarations.models import Declaration, PersonalSignature, Servant, StateBody
from declarations.signatures.dev_signer import development_sign, development_signer_available
from declarations.signatures.verifiers import current_verifier
from declarations.signatures.verify import SignatureFacts, SignatureRefused

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from declarations.models import AuditEvent

#: which policy field of the body governs each signable step
POLICY_FIELD = {
    "submit": "sign_notice",
    "consent": "sign_answer",
    "addendum": "sign_addendum",
    "decide": "sign_decision",
    "no_conflict": "sign_decision",
}

# The NCA's extended key usages (``../shared/kz-test-pki/README.md``): a natural person, and an
# organisation's head, an employee with the right to sign, an employee.
INDIVIDUAL = "1.2.398.3.3.4.1.1"
HEAD = "1.2.398.3.3.4.1.2.1"
SIGN_RIGHT = "1.2.398.3.3.4.1.2.2"
EMPLOYEE = "1.2.398.3.3.4.1.2.5"
#: the roles a certificate may have for each step: the servant acts as a person (their own key,
#: or their employee key); a decision is the official's, so an employee key needs the right to
#: sign for the body
ALLOWED_ROLES = {
    "submit": (INDIVIDUAL, HEAD, SIGN_RIGHT, EMPLOYEE),
    "consent": (INDIVIDUAL, HEAD, SIGN_RIGHT, EMPLOYEE),
    "addendum": (INDIVIDUAL, HEAD, SIGN_RIGHT, EMPLOYEE),
    "decide": (INDIVIDUAL, HEAD, SIGN_RIGHT),
    "no_conflict": (INDIVIDUAL, HEAD, SIGN_RIGHT),
}


class StatementOnly(bytes):
    """Passed as the signature, asks the step for its statement: the step runs its checks,
    encodes the statement exactly as it would verify it, and raises ``StatementWanted`` — so
    nothing is written and the pages get the bytes to sign from the very code that verifies."""


class DevelopmentSignature(bytes):
    """Passed as the signature where NCALayer is not (development, the demo): the step signs
    its own statement with the NCA *test* key of the actor's IIN, then verifies it like any
    other. Refused unless the development signer is available (DEBUG and the test root)."""


class StatementWanted(Exception):
    def __init__(self, statement: bytes, iin: str) -> None:
        super().__init__("statement")
        self.statement, self.iin = statement, iin


#: the NCA test key of each test identity (``declarations/signatures/testpki``)
DEVELOPMENT_KEYS = {
    "123456789011": "individual/valid",
    "123456789012": "legal/valid/employee_signright",
}


@dataclass(frozen=True)
class Verified:
    """A signature the step accepted, to be kept beside its event."""

    statement: bytes
    cms: bytes
    facts: SignatureFacts


def iin_of(user: User) -> str:
    servant = Servant.objects.filter(user=user, is_active=True).only("iin").first()
    return servant.iin if servant is not None else ""


def statement_bytes(*, declaration: Declaration, step: str, iin: str, content: Any) -> bytes:
    """The exact bytes a person signs for ``step`` (see the module docstring)."""
    return canonical_bytes(
        {
            "format": "coi-statement/1",
            "declaration": str(declaration.code),
            "step": step,
            "signer_iin": iin,
            "content": content,
        }
    )


def policy_of(body: StateBody, step: str) -> str:
    return str(getattr(body, POLICY_FIELD[step]))


def signature_check(
    *,
    declaration: Declaration,
    step: str,
    actor: User,
    content: Callable[[], Any],
    signature: bytes | None,
) -> Verified | None:
    """Apply the body's policy to the step and verify a signature given with it; ``None`` when
    the step goes unsigned. ``content`` is asked for only when there is a signature to check
    (an unsigned step costs no query). Raises ``ValidationError`` at ``signature`` (a 400)."""
    policy = policy_of(declaration.body, step)
    if signature is None:
        if policy == SignaturePolicy.REQUIRED:
            raise ValidationError(
                {
                    "signature": [
                        _(
                            "Your state body requires this step to be signed with your "
                            "electronic digital signature (EDS)."
                        )
                    ]
                }
            )
        return None
    if policy == SignaturePolicy.OFF:  # a statement is refused too: nothing to sign
        raise ValidationError(
            {"signature": [_("Your state body does not use personal signatures for this step.")]}
        )
    iin = iin_of(actor)
    if not iin:
        raise ValidationError(
            {
                "signature": [
                    _("Your IIN is not on record: ask the administrator to add it, then sign.")
                ]
            }
        )
    statement = statement_bytes(declaration=declaration, step=step, iin=iin, content=content())
    if isinstance(signature, StatementOnly):
        raise StatementWanted(statement, iin)
    if isinstance(signature, DevelopmentSignature):
        signature = _development_signature(statement, iin)
    try:
        facts = current_verifier().verify(
            signature,
            content=statement,
            iin=iin,
            bin=declaration.body.bin or None,
            # an organisation's key proves nothing about a body whose BIN is not on record
            allowed_roles=ALLOWED_ROLES[step] if declaration.body.bin else (INDIVIDUAL,),
        )
    except SignatureRefused as refused:
        raise ValidationError({"signature": [refused.message]}, code=refused.code) from None
    return Verified(statement=statement, cms=signature, facts=facts)


def _development_signature(statement: bytes, iin: str) -> bytes:
    key = DEVELOPMENT_KEYS.get(iin)
    if key is None or not development_signer_available():
        raise ValidationError(
            {"signature": [_("The development signer is not available here; sign with NCALayer.")]}
        )
    return development_sign(statement, key=key)


def event_data(verified: Verified) -> dict[str, Any]:
    """What the event records of the signature, inside the hashed event data: the hashes of the
    statement and of the CMS (both kept in ``PersonalSignature``, so the chain covers them), and
    the verifier's findings with the IIN masked — the events are read by everyone on the case,
    and an IIN is personal data."""
    signer = verified.facts.as_json()
    signer["iin"] = masked(str(signer.get("iin") or "").removeprefix("IIN"))
    return {
        "step": json.loads(verified.statement)["step"],
        "statement_sha256": hashlib.sha256(verified.statement).hexdigest(),
        "cms_sha256": hashlib.sha256(verified.cms).hexdigest(),
        "signer": signer,
    }


def signature_keep(*, verified: Verified, event: AuditEvent, signer: User) -> PersonalSignature:
    """Keep the CMS beside the event that records its hash (inside the step's transaction)."""
    return PersonalSignature.objects.create(
        event=event,
        declaration_id=event.declaration_id,
        signer=signer,
        statement=verified.statement,
        statement_sha256=hashlib.sha256(verified.statement).hexdigest(),
        cms=verified.cms,
        cms_sha256=hashlib.sha256(verified.cms).hexdigest(),
        facts=verified.facts.as_json(),
        signed_at=verified.facts.signed_at,
        verified_at=verified.facts.verified_at,
    )
