"""What the serializers of every resource share: strict input fields, and the small shapes
(a person, a user, a state body, an error) that outputs nest.

Inputs check types, lengths and enums and refuse unknown fields; the services check the rules
(dates, who, states). Outputs are plain ``Serializer`` classes over rows loaded with
``select_related`` by the views, so a page costs the same queries for 1 row as for 50.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from declarations.api.common import version_of
from declarations.text import clean_text

# ---- inputs -------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """Text only: DRF's ``CharField`` would turn ``0`` or ``true`` into ``"0"``/``"True"``.

    The text is also ``text.clean_text``'s (issue 14): in NFC with ``\\n`` line endings, and
    refused (400 at the field) if it holds an invisible format or control character. Every text
    input of the API is this field, so none can be forgotten (``tests/test_text_input.py`` walks
    the input serializers). ``multiline=False`` refuses tabs and line breaks too (an order
    number, a slug); ``verbatim=True`` skips the cleaning, for credentials only: a password is
    compared as typed, and normalising it would lock out whoever set it otherwise.
    """

    def __init__(self, *, multiline: bool = True, verbatim: bool = False, **kwargs: Any) -> None:
        self.multiline = multiline
        self.verbatim = verbatim
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = str(super().to_internal_value(data))
        if self.verbatim or not value:
            return value
        try:
            return clean_text(value, multiline=self.multiline)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages, code="invalid") from exc


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only, not ``"yes"``, ``1`` or ``"on"``."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanWordField(serializers.ChoiceField):
    """A yes/no query parameter: the words ``true`` or ``false`` only (anything else is a 400),
    documented as a boolean, as generated clients send one."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[("true", "true"), ("false", "false")], **kwargs)


class StrictUUIDField(serializers.UUIDField):
    """A UUID in its text form only (DRF also takes an integer as ``UUID(int=...)``)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a typo must not be silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


# ---- outputs ------------------------------------------------------------------------------


class PersonOutput(serializers.Serializer):
    """A servant as others see them: public id and name."""

    id = serializers.UUIDField(source="code")
    full_name = serializers.CharField()


class UserRefField(serializers.Field):
    """A user shown as their servant (public id and name); ``null`` when nobody."""

    def to_representation(self, user: Any) -> dict[str, Any] | None:
        return user_ref(user)


def user_ref(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    servant = getattr(user, "servant", None)
    name = servant.full_name if servant is not None else (user.get_full_name() or user.username)
    return {"id": str(servant.code) if servant is not None else None, "full_name": name}


class UserRefOutput(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="The servant's id; null if none.")
    full_name = serializers.CharField()


extend_schema_field(UserRefOutput(allow_null=True))(UserRefField)


class BodyOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    slug = serializers.SlugField()
    name = serializers.CharField()
    bin = serializers.CharField(help_text="Business identification number; empty if not set.")


#: every ``code`` of an error (``api/errors.py``): a closed set clients may switch on
ERROR_CODES = [
    (code, code)
    for code in (
        "invalid",
        "bad_request",
        "parse_error",
        "not_authenticated",
        "authentication_failed",
        "permission_denied",
        "not_found",
        "method_not_allowed",
        "not_acceptable",
        "conflict",
        "precondition_failed",
        "precondition_required",
        "payload_too_large",
        "unsupported_media_type",
        "throttled",
        "server_error",
        "unavailable",
    )
]


class ErrorOutput(serializers.Serializer):
    """The one shape of every error."""

    code = serializers.ChoiceField(
        choices=ERROR_CODES, help_text="Stable, for programs; `message` says it for people."
    )
    message = serializers.CharField(help_text="For people, in the caller's language.")
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="Per-field messages; nested for the measures of a decision."
    )
    retry_after = serializers.IntegerField(required=False, help_text="429: seconds to wait.")


class VersionField(serializers.CharField):
    """A declaration's or a measure's version: its ``ETag`` without the quotes, so that the
    ``If-Match`` a write needs can be taken from any read of the object, a list's rows too."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "The value of the ETag header without its quotes: send it as If-Match to change "
            "the object.",
        )
        super().__init__(source="*", **kwargs)

    def to_representation(self, value: Any) -> str:
        return version_of(value)
