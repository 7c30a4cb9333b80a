"""Serializers of the access log (the view is ``api/access.py``). Imported by that view
directly."""

from __future__ import annotations

from rest_framework import serializers

from declarations.api.serializers.common import StrictCharField, UserRefField
from declarations.choices import AccessAction

# ---- inputs -------------------------------------------------------------------------------


class AccessFilterInput(serializers.Serializer):
    """The filters of ``GET /access/`` (query parameters; ``cursor`` and ``page_size`` page)."""

    user = StrictCharField(
        required=False,
        max_length=150,
        help_text="Who read: the servant's id, or the user name of someone who is no servant "
        "(an auditor).",
    )
    declaration = serializers.UUIDField(
        required=False,
        help_text="The declaration read (with the exports that carried its dossier).",
    )
    action = serializers.ChoiceField(choices=AccessAction.choices, required=False)


# ---- outputs ------------------------------------------------------------------------------


class AccessDeclarationOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    registration_number = serializers.CharField(allow_null=True)


class AccessEventOutput(serializers.Serializer):
    """One read that left a trace, as the hash-chained access log holds it."""

    seq = serializers.IntegerField(help_text="Its place in the access log (1, 2, …).")
    at = serializers.DateTimeField()
    user = UserRefField(help_text="Who read.")
    username = serializers.CharField(source="user.username", allow_null=True)
    action = serializers.ChoiceField(choices=AccessAction.choices)
    action_display = serializers.CharField(source="get_action_display")
    declaration = AccessDeclarationOutput(allow_null=True, help_text="Null for an export.")
    object_id = serializers.CharField(
        source="object_code",
        help_text="The id of what was read: a record, a file, an export; empty for a page.",
    )
    details = serializers.DictField(
        source="data", help_text="What else was noted: the language, the door, the filters."
    )
    hash = serializers.CharField(help_text="SHA-256 of the event and the previous hash.")
