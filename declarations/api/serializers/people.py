"""Serializers of the caller and the organisation: the tokens, ``/me/``, and the pickers of
servants and positions."""

from __future__ import annotations

from rest_framework import serializers

from declarations.api.serializers.common import (
    BodyOutput,
    PersonOutput,
    StrictCharField,
    StrictSerializer,
)
from declarations.choices import Role
from declarations.models import ApiToken


class TokenInput(StrictSerializer):
    # compared as typed (``verbatim``, not ``text.clean_text``'s): credentials reach no record,
    # and a password normalised here would no longer be the one that was set
    username = StrictCharField(max_length=150, verbatim=True)
    password = StrictCharField(max_length=128, verbatim=True, style={"input_type": "password"})
    client = StrictCharField(
        max_length=100,
        multiline=False,
        required=False,
        help_text=(
            "What names this client in the list of your tokens, e.g. `HR system` or `Laptop`; "
            "without it, the request's User-Agent does."
        ),
    )


class PositionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    title = serializers.CharField()
    unit = serializers.CharField(source="unit.name")
    unit_id = serializers.UUIDField(source="unit.code")
    is_head = serializers.BooleanField()


class ServantOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    full_name = serializers.CharField()
    personnel_number = serializers.CharField()
    position = serializers.CharField(source="position.title", allow_null=True, default=None)
    unit = serializers.CharField(source="position.unit.name", allow_null=True, default=None)
    body = serializers.SlugField(source="body.slug")


class VacantPositionOutput(PositionOutput):
    body = serializers.SlugField(source="body.slug")
    vacant = serializers.BooleanField()


class RolesOutput(serializers.Serializer):
    body = BodyOutput()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))


class MeServantOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    full_name = serializers.CharField()
    personnel_number = serializers.CharField()
    iin = serializers.CharField(
        help_text="The caller's own IIN (a personal signature must carry it); empty if not set."
    )
    body = BodyOutput()
    position = PositionOutput(allow_null=True)


class MeOutput(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    language = serializers.CharField()
    roles = RolesOutput(many=True)
    servant = MeServantOutput(allow_null=True)
    direct_manager = PersonOutput(allow_null=True)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField(
        help_text="The key, shown this once: send it as `Authorization: Bearer <token>`."
    )
    id = serializers.UUIDField(
        source="code", help_text="The token's id in `GET /api/v1/auth/tokens/`."
    )
    client = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ApiTokenOutput(serializers.Serializer):
    """One of the caller's live tokens; never its key, which is not stored."""

    id = serializers.UUIDField(source="code")
    client = serializers.CharField(help_text="The sign-in's `client`, else its User-Agent.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        help_text="The last request made with the token, to the minute."
    )
    expires_at = serializers.DateTimeField()
    current = serializers.SerializerMethodField(
        help_text="Whether this is the token the request was made with."
    )

    def get_current(self, token: ApiToken) -> bool:
        return token.pk == self.context.get("current")
