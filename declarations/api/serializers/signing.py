"""The API side of personal signatures (issue 15): the ``signature`` field the signable steps
take, and the statement a client asks for before it signs."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from declarations.api.serializers.common import StrictSerializer
from declarations.api.serializers.declarations import (
    DecideInput,
    ReasonInput,
    TextInput,
)
from declarations.api.serializers.measures import ConsentInput
from declarations.choices import SignaturePolicy

#: a CMS of one signer with its certificate chain is a few kilobytes
SIGNATURE_MAX_BYTES = 64 * 1024


@extend_schema_field(OpenApiTypes.BYTE)
class SignatureField(serializers.Field):
    """A detached CMS (CAdES) as NCALayer returns it, in base64."""

    default_error_messages = {
        "invalid": _("The signature must be a CMS in base64."),
        "too_large": _("The signature is too large."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "The signer's detached CMS over the statement of this step (base64), as NCALayer "
            "returns it; ask `statement/` for the bytes to sign. Optional, off or required by "
            "the state body's policy for the step.",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> bytes:
        if not isinstance(data, str) or len(data) > SIGNATURE_MAX_BYTES * 2:
            self.fail("invalid" if not isinstance(data, str) else "too_large")
        try:
            raw = base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            self.fail("invalid")
        if not raw or len(raw) > SIGNATURE_MAX_BYTES:
            self.fail("invalid" if not raw else "too_large")
        return raw

    def to_representation(self, value: bytes) -> str:
        return base64.b64encode(value).decode()


class SignedInput(StrictSerializer):
    signature = SignatureField(required=False)


class SignedReasonInput(ReasonInput):
    signature = SignatureField(required=False)


class SignedTextInput(TextInput):
    signature = SignatureField(required=False)


class SignedDecideInput(DecideInput):
    signature = SignatureField(required=False)


class SignedConsentInput(ConsentInput):
    signature = SignatureField(required=False)


class StatementOutput(serializers.Serializer):
    statement = serializers.CharField(help_text="The exact bytes to sign, in base64.")
    sha256 = serializers.CharField(help_text="Their SHA-256, hex.")
    policy = serializers.ChoiceField(
        choices=SignaturePolicy.choices, help_text="The state body's policy for the step."
    )
