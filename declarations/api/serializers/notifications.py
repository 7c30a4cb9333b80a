"""Serializers of the caller's notifications (the view is ``api/notifications.py``). Imported by
that view directly."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from declarations.api.serializers.common import (
    BooleanWordField,
    StrictBooleanField,
    StrictSerializer,
)
from declarations.choices import Clock, NotificationKind
from declarations.models import Notification
from declarations.selectors.notifications import notification_due


class NotificationKindField(serializers.ChoiceField):
    """A kind of notification (``NotificationKind``; ``NotificationKindEnum`` in the schema,
    named by ``SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=NotificationKind.choices, **kwargs)


# ---- inputs -------------------------------------------------------------------------------


class NotificationFilterInput(serializers.Serializer):
    """The filter of ``GET /notifications/`` (query parameters; ``cursor`` and ``page_size``
    page)."""

    unread = BooleanWordField(
        required=False, help_text="true: only the unread ones; false: only the read ones."
    )


class NotificationPreferenceInput(StrictSerializer):
    """One kind and whether it also comes by e-mail."""

    kind = NotificationKindField()
    email = StrictBooleanField(help_text="Send this kind by e-mail too.")


class NotificationPreferencesInput(StrictSerializer):
    """``PUT /notifications/preferences/``: the kinds listed are set, the others keep their
    choice. A kind the rules require cannot be switched off (400 at its ``email``)."""

    preferences = NotificationPreferenceInput(many=True, max_length=len(NotificationKind))  # type: ignore[call-arg]

    def validate_preferences(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        errors: dict[str, dict[str, list[str]]] = {}
        for index, item in enumerate(items):
            if item["kind"] in seen:  # keyed by index, as DRF keys the errors of a list
                errors[str(index)] = {"kind": [_("This kind is listed twice.")]}
            seen.add(item["kind"])
        if errors:
            raise serializers.ValidationError(errors)
        return items


# ---- outputs ------------------------------------------------------------------------------


class NotificationDeadlineOutput(serializers.Serializer):
    clock = serializers.ChoiceField(choices=Clock.choices)
    clock_display = serializers.CharField(source="clock.label")
    due_at = serializers.DateTimeField(help_text="Shown in Almaty time (UTC+5).")


class NotificationOutput(serializers.Serializer):
    """One thing the caller was told, as their in-app list shows it."""

    id = serializers.UUIDField(source="code")
    kind = NotificationKindField()
    title = serializers.CharField(
        source="get_kind_display", help_text="What it says, in the caller's language."
    )
    declaration = serializers.UUIDField(
        source="declaration.code", allow_null=True, help_text="The case's id; null for a digest."
    )
    registration_number = serializers.CharField(
        source="declaration.registration_number", allow_null=True
    )
    url = serializers.SerializerMethodField(help_text="The case's page; null for a digest.")
    deadline = serializers.SerializerMethodField(
        help_text="The deadline it is about (a reminder, a missed deadline); null otherwise."
    )
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True, help_text="Null while unread.")

    def get_url(self, notification: Notification) -> str | None:
        if notification.declaration is None:
            return None
        path = reverse("declarations:declaration", args=[notification.declaration.code])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(NotificationDeadlineOutput(allow_null=True))
    def get_deadline(self, notification: Notification) -> dict[str, Any] | None:
        due = notification_due(notification)
        return NotificationDeadlineOutput(due).data if due is not None else None


class NotificationsReadAllInput(serializers.Serializer):
    """The body of ``POST /notifications/read-all/`` (may be empty)."""

    up_to = serializers.DateTimeField(
        required=False,
        help_text=(
            "Only those that arrived by this time (the newest the reader saw), so that one "
            "arriving meanwhile stays unread. Without it, every unread notification."
        ),
    )


class NotificationsReadOutput(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are read now.")


class NotificationPreferenceOutput(serializers.Serializer):
    kind = NotificationKindField()
    title = serializers.CharField(source="kind.label", help_text="In the caller's language.")
    email = serializers.BooleanField(help_text="Sent by e-mail too; always for a mandatory kind.")
    mandatory = serializers.BooleanField(
        help_text="The rules require this e-mail: it cannot be switched off."
    )


class NotificationPreferencesOutput(serializers.Serializer):
    """Every kind, in a fixed order; the in-app list always shows every notification."""

    preferences = NotificationPreferenceOutput(many=True)
