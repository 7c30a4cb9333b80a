"""What a verification says: the facts of a good signature, or one refusal with its reason.

A refusal carries a stable machine code (the API returns it, the audit may store it, tests
compare it) and a sentence for people, marked for translation (kk/ru in ``locale/``). The
sentence says what is wrong in the signer's terms; the optional ``detail`` is for the log only
and may name files, OIDs and dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Refusal(models.TextChoices):
    """Why a signature was refused: the value is the stable code, the label the sentence."""

    MALFORMED = (
        "malformed",
        _("The signature is not a readable detached CMS signature with exactly one signer."),
    )
    UNKNOWN_ALGORITHM = (
        "unknown_algorithm",
        _("The signature uses an algorithm this service does not accept."),
    )
    DIGEST_MISMATCH = (
        "digest_mismatch",
        _("The signature was made over other data than this step records."),
    )
    BAD_SIGNATURE = (
        "bad_signature",
        _("The signature does not match the signer's certificate."),
    )
    SIGNING_TIME = (
        "signing_time_mismatch",
        _(
            "The signing time in the signature is too far from the server's time; check the "
            "computer's clock and sign again."
        ),
    )
    UNTRUSTED_CHAIN = (
        "untrusted_chain",
        _("The signer's certificate was not issued by a trusted certification authority."),
    )
    NOT_YET_VALID = (
        "not_yet_valid",
        _("The signer's certificate was not yet valid at the signing time."),
    )
    EXPIRED = (
        "expired",
        _("The signer's certificate had expired at the signing time."),
    )
    REVOKED = (
        "revoked",
        _("The signer's certificate has been revoked."),
    )
    REVOCATION_UNKNOWN = (
        "revocation_unknown",
        _("Whether the signer's certificate has been revoked could not be checked; try later."),
    )
    KEY_USAGE = (
        "key_usage",
        _("This certificate is not meant for signing documents (it is an authentication key)."),
    )
    IIN_MISMATCH = (
        "iin_mismatch",
        _("The signature was made with another person's certificate."),
    )
    BIN_MISMATCH = (
        "bin_mismatch",
        _("The signer's certificate belongs to another organisation."),
    )
    ROLE_NOT_ALLOWED = (
        "role_not_allowed",
        _("The signer's certificate does not carry a role allowed for this step."),
    )
    VERIFIER_UNAVAILABLE = (
        "verifier_unavailable",
        _("The signature could not be checked now; try again later."),
    )


class SignatureRefused(Exception):
    """A signature that must not be accepted. Nothing may be saved when this is raised."""

    def __init__(
        self, code: Refusal, message: str | Promise | None = None, *, detail: str = ""
    ) -> None:
        self.code = Refusal(code)
        self.message = message if message is not None else self.code.label
        self.detail = detail
        super().__init__(f"{self.code.value}: {detail or self.message}")


@dataclass(frozen=True)
class SignatureFacts:
    """What a verified signature proves, in the terms a record shows and an audit stores.

    ``signed_at`` is the time the verification was made for (the CMS ``signingTime``, checked
    against the server's clock, or the pinned ``at``); re-verifying later with ``at=signed_at``
    asks the same question again. ``chain`` lists the issuers' common names from the signer's
    issuer up to the trusted root.
    """

    signer_name: str
    iin: str | None
    bin: str | None
    role_oids: tuple[str, ...]
    serial: str
    issuer: str
    signed_at: dt.datetime
    algorithm: str
    certificate_sha256: str
    chain: tuple[str, ...]
    verified_at: dt.datetime
    crl_number: int | None
    verifier: str = "local"

    def as_json(self) -> dict[str, Any]:
        """A dict that ``json.dumps`` (and the audit hash's canonical JSON) accepts as it is."""
        data = asdict(self)
        data["role_oids"] = list(self.role_oids)
        data["chain"] = list(self.chain)
        data["signed_at"] = self.signed_at.isoformat()
        data["verified_at"] = self.verified_at.isoformat()
        return data
