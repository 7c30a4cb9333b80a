"""Serializers of the caller and the organisation: the token, ``/me/``, and the pickers of
servants and positions."""

from __future__ import annotations

from rest_framework import serializers

from declarations.api.serializers.common import (
    BodyOutput,
    PersonOutput,
    StrictCharField,
    StrictSerializer,
)


class TokenInput(StrictSerializer):
    # compared as typed (``verbatim``, not ``text.clean_text``'s): credentials reach no record,
    # and a password normalised here would no longer be the one that was set
    username = StrictCharField(max_length=150, verbatim=True)
    password = StrictCharField(max_length=128, verbatim=True, style={"input_type": "password"})


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
    roles = serializers.ListField(child=serializers.CharField())


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
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
