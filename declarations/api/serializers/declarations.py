"""Serializers of declarations: the notice as the servant writes it, the inputs of the transitions,
comments and addenda, a declaration in lists and in full, its files and its audit events."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from declarations.api.operations import mib
from declarations.api.serializers.common import (
    BodyOutput,
    PersonOutput,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
    StrictUUIDField,
    UserRefField,
    VersionField,
    user_ref,
)
from declarations.api.serializers.measures import MeasureInput
from declarations.choices import (
    Addressee,
    AuditAction,
    Category,
    ConflictType,
    DeclarationAction,
    DeclarationState,
    Origin,
)
from declarations.dates import DATE_FLOOR
from declarations.models.declaration import INTEREST_MAX, MATTER_MAX, REASON_MAX, RELATED_MAX
from declarations.services.declarations import TEXT_MAX

# ---- inputs -------------------------------------------------------------------------------


class NoticeFieldsInput(StrictSerializer):
    conflict_type = serializers.ChoiceField(choices=ConflictType.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    matter = StrictCharField(max_length=MATTER_MAX)
    personal_interest = StrictCharField(max_length=INTEREST_MAX)
    related_persons = StrictCharField(
        max_length=RELATED_MAX, required=False, allow_blank=True, default=""
    )
    aware_since = serializers.DateField(
        help_text="When the servant learned of the conflict; not in the future (Almaty time), "
        f"not before {DATE_FLOOR}.",
    )
    addressee = serializers.ChoiceField(choices=Addressee.choices, default=Addressee.MANAGER)


class DeclarationCreateInput(NoticeFieldsInput):
    """A draft of one's own notice (``origin: self``), or a declaration opened on information from
    other sources about a servant (``origin: other_source``, registered at once)."""

    origin = serializers.ChoiceField(choices=Origin.choices, default=Origin.SELF)
    declarant = StrictUUIDField(
        required=False, help_text="The servant concerned (declarations from other sources only)."
    )
    source_description = StrictCharField(
        max_length=REASON_MAX, required=False, allow_blank=True, default=""
    )
    source_confidential = StrictBooleanField(
        required=False,
        default=False,
        help_text="Law 410-V Art. 24: only ethics commissioners and auditors see the source.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["origin"] == Origin.OTHER_SOURCE:
            if not attrs.get("declarant"):
                raise serializers.ValidationError({"declarant": [_("Choose the servant.")]})
        else:
            extra = [f for f in ("declarant", "source_description") if attrs.get(f)]
            if attrs.get("source_confidential"):
                extra.append("source_confidential")
            if extra:
                raise serializers.ValidationError(
                    {f: [_("Only for a case from other sources.")] for f in extra}
                )
        return attrs


class DeclarationUpdateInput(NoticeFieldsInput):
    """Changes to a draft; send only the fields that change."""


class ReasonInput(StrictSerializer):
    reason = StrictCharField(max_length=REASON_MAX)


class ReassignReviewerInput(ReasonInput):
    reviewer = StrictUUIDField(help_text="The servant who reviews the declaration from now on.")


class TextInput(StrictSerializer):
    text = StrictCharField(max_length=TEXT_MAX)


class DecideInput(StrictSerializer):
    measures = MeasureInput(many=True, min_length=1, max_length=10)  # type: ignore[call-arg]
    reason = StrictCharField(max_length=REASON_MAX)


class AttachmentInput(StrictSerializer):
    file = serializers.FileField(
        help_text="PDF, PNG or JPEG, recognised by its content; at most "
        f"{mib(settings.COI_ATTACHMENT_MAX_BYTES_DEFAULT)} by default."
    )


# ---- outputs ------------------------------------------------------------------------------


class DeclarationOutput(serializers.Serializer):
    """A declaration in lists: what an inbox or a register row needs."""

    id = serializers.UUIDField(source="code")
    registration_number = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(choices=DeclarationState.choices)
    state_display = serializers.CharField(source="get_state_display")
    origin = serializers.ChoiceField(choices=Origin.choices)
    addressee = serializers.ChoiceField(choices=Addressee.choices)
    conflict_type = serializers.ChoiceField(choices=ConflictType.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    category_display = serializers.CharField(source="get_category_display")
    matter = serializers.CharField()
    personal_interest = serializers.CharField()
    related_persons = serializers.CharField()
    aware_since = serializers.DateField()
    body = BodyOutput()
    declarant = PersonOutput()
    position_title = serializers.CharField()
    unit_name = serializers.CharField()
    reviewer = UserRefField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    recusal_active = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_overdue(self, obj: Any) -> bool:
        now = self.context.get("now") or timezone.now()
        return bool(obj.is_open and obj.due_at is not None and obj.due_at < now)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        """The fields above, built directly: DRF's generic walk costs ~0.6 ms a row (field
        lookup, ``get_FOO_display`` through ``inspect``), three quarters of a page of 50.
        ``tests/test_api_queries.py`` checks this gives exactly what the generic walk gives."""
        obj = instance
        now = self.context.get("now") or timezone.now()
        if "labels" not in self.context:  # once per page: the context is the list's
            self.context["labels"] = _labels()
        states, categories = self.context["labels"]
        body = obj.body
        declarant = obj.declarant
        return {
            "id": str(obj.code),
            "registration_number": obj.registration_number,
            "state": obj.state,
            "state_display": states[obj.state],
            "origin": obj.origin,
            "addressee": obj.addressee,
            "conflict_type": obj.conflict_type,
            "category": obj.category,
            "category_display": categories[obj.category],
            "matter": obj.matter,
            "personal_interest": obj.personal_interest,
            "related_persons": obj.related_persons,
            "aware_since": obj.aware_since.isoformat(),
            "body": {"id": str(body.code), "slug": body.slug, "name": body.name, "bin": body.bin},
            "declarant": {"id": str(declarant.code), "full_name": declarant.full_name},
            "position_title": obj.position_title,
            "unit_name": obj.unit_name,
            "reviewer": user_ref(obj.reviewer),
            "submitted_at": _dt(obj.submitted_at),
            "due_at": _dt(obj.due_at),
            "overdue": bool(obj.is_open and obj.due_at is not None and obj.due_at < now),
            "recusal_active": obj.recusal_active,
            "closed_at": _dt(obj.closed_at),
            "created_at": _dt(obj.created_at),
            "updated_at": _dt(obj.updated_at),
        }


_DATETIME = serializers.DateTimeField()


def _dt(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _labels() -> tuple[dict[str, str], dict[str, str]]:
    """State and category labels in the active language (resolved once per call)."""
    return (
        {value: str(label) for value, label in DeclarationState.choices},
        {value: str(label) for value, label in Category.choices},
    )


class SourceOutput(serializers.Serializer):
    opened_by = UserRefField()
    description = serializers.CharField(source="source_description")
    confidential = serializers.BooleanField(source="source_confidential")


class AttachmentOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeclarationDetailOutput(DeclarationOutput):
    """One declaration with its clocks, the recusal, the source (when the caller may see it), its
    attachments and the actions the caller may take now."""

    version = VersionField()
    review_started_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    closing_reason = serializers.CharField()
    recusal_started_at = serializers.DateTimeField(allow_null=True)
    recusal_ended_at = serializers.DateTimeField(allow_null=True)
    start_review_due_at = serializers.DateTimeField(allow_null=True)
    decision_due_at = serializers.DateTimeField(allow_null=True)
    source = serializers.SerializerMethodField()  # type: ignore[assignment]
    attachments = AttachmentOutput(many=True)
    allowed_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=DeclarationAction.choices),
        help_text="Actions the caller may take now, by endpoint name (e.g. start-review).",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        listed = DeclarationOutput._declared_fields
        for field in self._readable_fields:
            name = str(field.field_name)
            if name in listed:
                continue
            value = field.get_attribute(instance)
            data[name] = None if value is None else field.to_representation(value)
        return data

    @extend_schema_field(SourceOutput(allow_null=True))
    def get_source(self, obj: Any) -> dict[str, Any] | None:
        if obj.origin != Origin.OTHER_SOURCE:
            return None
        if not self.context.get("can_see_source"):
            return {"opened_by": user_ref(obj.opened_by), "description": None, "confidential": True}
        return dict(SourceOutput(obj).data)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "What the step recorded, as hashed into the chain. The keys depend on "
        "the action; those below are the ones in use, and a later release may add others. Ids "
        "of people and positions inside it are internal numbers, kept as they were hashed.",
        "properties": {
            "registration_number": {"type": "string", "description": "Submitted, opened."},
            "notice": {"type": "object", "description": "The notice as filed (submitted)."},
            "late_by_days": {"type": "integer", "description": "Days since `aware_since`."},
            "source_confidential": {"type": "boolean", "description": "Opened from sources."},
            "reason": {"type": "string", "description": "The reason given by the actor."},
            "text": {"type": "string", "description": "A comment's or an addendum's text."},
            "decision": {
                "type": "string",
                "description": "Decided: the decision's id; a consent: `accept` or `decline`.",
            },
            "measure": {"type": "string", "description": "The measure's id (empty for none)."},
            "measures": {
                "type": "array",
                "items": {"type": "object"},
                "description": "Decided: each measure as decided.",
            },
            "measure_snapshot": {"type": "object", "description": "The measure as implemented."},
            "order_number": {"type": "string"},
            "order_date": {"type": "string", "format": "date"},
            "clock": {"type": "string", "description": "A missed deadline's clock."},
            "level": {"type": "integer", "description": "1 when missed, 2+ when escalated."},
            "legal_basis": {
                "type": "array",
                "items": {"type": "object"},
                "description": "The legal references the step rests on, as they read then.",
            },
            "signature": {
                "type": "object",
                "description": "The person's own signature on the step (hashes and signer).",
            },
            "kind": {"type": "string", "description": "A notification's kind."},
            "channel": {"type": "string", "description": "How a notification was sent."},
            "delivered": {"type": "boolean", "description": "Whether it reached the server."},
        },
    }
)
class EventDataField(serializers.JSONField):
    """The payload of an event: an object whose keys depend on the action."""


class EventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    action = serializers.ChoiceField(choices=AuditAction.choices)
    action_display = serializers.CharField(source="get_action_display")
    actor = UserRefField(help_text="null for the system (deadline sweeps).")
    from_state = serializers.ChoiceField(
        choices=DeclarationState.choices, allow_blank=True, help_text="Empty before any state."
    )
    to_state = serializers.ChoiceField(choices=DeclarationState.choices, allow_blank=True)
    at = serializers.DateTimeField(source="created_at")
    data = EventDataField()  # type: ignore[assignment]
    prev_hash = serializers.CharField()
    hash = serializers.CharField()
