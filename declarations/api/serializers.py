"""Input and output serializers, kept apart (STYLE.md rule 18). No business logic here.

Inputs check types, lengths and enums and refuse unknown fields; the services check the rules
(dates, who, states). Outputs are plain ``Serializer`` classes over rows loaded with
``select_related`` by the views, so a page costs the same queries for 1 row as for 50.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from declarations.choices import (
    Addressee,
    Category,
    ConflictType,
    DeclarationState,
    MeasureKind,
    MeasureState,
    Origin,
)
from declarations.dates import DATE_FLOOR, validate_typed_date
from declarations.models.declaration import INTEREST_MAX, MATTER_MAX, REASON_MAX, RELATED_MAX
from declarations.services.declarations import TEXT_MAX
from declarations.services.measures import ACCEPT, DECLINE

# ---- inputs -------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """Text only: DRF's ``CharField`` would turn ``0`` or ``true`` into ``"0"``/``"True"``."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only, not ``"yes"``, ``1`` or ``"on"``."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


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
    """A draft of one's own notice (``origin: self``), or a case opened on information from
    other sources about a servant (``origin: other_source``, registered at once)."""

    origin = serializers.ChoiceField(choices=Origin.choices, default=Origin.SELF)
    declarant = StrictUUIDField(
        required=False, help_text="The servant concerned (other-source cases only)."
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
    reviewer = StrictUUIDField(help_text="The servant who reviews the case from now on.")


class TextInput(StrictSerializer):
    text = StrictCharField(max_length=TEXT_MAX)


class MeasureInput(StrictSerializer):
    kind = serializers.ChoiceField(choices=MeasureKind.choices)
    substitute = StrictUUIDField(
        required=False, allow_null=True, help_text="reassign: the servant who takes the matter."
    )
    matter = StrictCharField(
        max_length=MATTER_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="reassign: the matter handed over (default: the matter of the notice).",
    )
    description = StrictCharField(
        max_length=REASON_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="change_duties, other: what changes or what is done.",
    )
    effective_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="change_duties: from the day of the decision to two years after it.",
    )
    position = StrictUUIDField(
        required=False, allow_null=True, help_text="transfer: the vacant position."
    )
    proposed_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="transfer: from the day of the decision to two years after it.",
    )
    needs_order = StrictBooleanField(
        required=False, default=False, help_text="other: HR records an order to carry it out."
    )


class DecideInput(StrictSerializer):
    measures = MeasureInput(many=True, min_length=1, max_length=10)  # type: ignore[call-arg]
    reason = StrictCharField(max_length=REASON_MAX)


class ConsentInput(StrictSerializer):
    decision = serializers.ChoiceField(choices=[(ACCEPT, ACCEPT), (DECLINE, DECLINE)])
    reason = StrictCharField(
        max_length=REASON_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to decline.",
    )


class ImplementInput(StrictSerializer):
    order_number = StrictCharField(max_length=64)
    order_date = serializers.DateField(
        help_text="Not before the day the measure was decided, not in the future (Almaty).",
    )


class TokenInput(StrictSerializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, style={"input_type": "password"})


class AttachmentInput(StrictSerializer):
    file = serializers.FileField(
        help_text="PDF, PNG or JPEG, recognised by content; at most COI_ATTACHMENT_MAX_BYTES."
    )


class ExportInput(StrictSerializer):
    """What to export: empty filters mean every registered case of every body you audit."""

    body = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        default=list,
        help_text="State bodies' short names (slugs).",
    )
    unit = StrictUUIDField(required=False, allow_null=True, default=None)
    submitted_from = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_typed_date]
    )
    submitted_to = serializers.DateField(
        required=False, allow_null=True, default=None, validators=[validate_typed_date]
    )
    state = serializers.ListField(
        child=serializers.ChoiceField(choices=DeclarationState.choices),
        required=False,
        default=list,
    )
    language = serializers.ChoiceField(
        choices=[("kk", "kk"), ("ru", "ru"), ("en", "en"), ("kk-ru", "kk-ru")],
        required=False,
        help_text="The dossiers' language; default: the request's (Accept-Language).",
    )


class VerifyInput(StrictSerializer):
    file = serializers.FileField(help_text="The PDF to check.")


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


class DeclarationOutput(serializers.Serializer):
    """A case in lists: what an inbox or a register row needs."""

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
            "body": {"id": str(body.code), "slug": body.slug, "name": body.name},
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
    """One case with its clocks, the recusal, the source (when the caller may see it), its
    attachments and the actions the caller may take now."""

    version = serializers.CharField(help_text="The value of the ETag header.")
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
        child=serializers.CharField(),
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


class PositionOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    title = serializers.CharField()
    unit = serializers.CharField(source="unit.name")
    unit_id = serializers.UUIDField(source="unit.code")
    is_head = serializers.BooleanField()


class MeasureOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    declaration = serializers.UUIDField(source="declaration.code")
    registration_number = serializers.CharField(
        source="declaration.registration_number", allow_null=True
    )
    kind = serializers.ChoiceField(choices=MeasureKind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    state = serializers.ChoiceField(choices=MeasureState.choices)
    state_display = serializers.CharField(source="get_state_display")
    decided_at = serializers.DateTimeField(source="decision.decided_at")
    reason = serializers.CharField(source="decision.reason")
    substitute = PersonOutput(allow_null=True)
    matter = serializers.CharField()
    description = serializers.CharField()
    effective_date = serializers.DateField(allow_null=True)
    needs_order = serializers.BooleanField()
    position = PositionOutput(allow_null=True)
    proposed_date = serializers.DateField(allow_null=True)
    consent_due_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    answer_reason = serializers.CharField()
    order_due_at = serializers.DateTimeField(allow_null=True)
    order_number = serializers.CharField()
    order_date = serializers.DateField(allow_null=True)
    implemented_at = serializers.DateTimeField(allow_null=True)


class EventOutput(serializers.Serializer):
    seq = serializers.IntegerField()
    action = serializers.CharField()
    action_display = serializers.CharField(source="get_action_display")
    actor = UserRefField(help_text="null for the system (deadline sweeps).")
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text="The payload, as hashed into the chain."
    )
    prev_hash = serializers.CharField()
    hash = serializers.CharField()


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


class ErrorOutput(serializers.Serializer):
    """The one shape of every error."""

    code = serializers.CharField(
        help_text="Stable, for programs: invalid, not_authenticated, authentication_failed, "
        "permission_denied, not_found, conflict, precondition_failed, payload_too_large, "
        "unsupported_media_type, throttled, parse_error, method_not_allowed, not_acceptable."
    )
    message = serializers.CharField(help_text="For people, in the caller's language.")
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="Per-field messages; nested for the measures of a decision."
    )
    retry_after = serializers.IntegerField(required=False, help_text="429: seconds to wait.")


class RecordOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.CharField(help_text="pending (being issued), issued, failed.")
    language = serializers.CharField()
    verification_code = serializers.CharField()
    sha256 = serializers.CharField(help_text="Empty until issued.")
    size = serializers.IntegerField(allow_null=True)
    pages = serializers.IntegerField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    sealed_by = serializers.CharField(source="seal_subject")
    development_seal = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    filters = serializers.JSONField()
    language = serializers.CharField()
    total = serializers.IntegerField(help_text="Cases in the export (0 until planned).")
    done = serializers.IntegerField(help_text="Dossiers issued so far.")
    size = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(help_text="Of the ZIP, once done.")
    failure = serializers.CharField(
        help_text="Why it failed: planning, dossier, packing or stalled; empty otherwise."
    )
    error = serializers.CharField(
        source="failure_reason",
        help_text="Why it failed, in the caller's language (operators find the technical "
        "detail in the admin).",
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class VerifiedRecordOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    verification_code = serializers.CharField()
    registration_number = serializers.CharField(allow_null=True)
    state_body = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField()
    pages = serializers.IntegerField(allow_null=True)


class VerdictOutput(serializers.Serializer):
    valid = serializers.BooleanField(help_text="Ours, unaltered, intact and trusted seal.")
    ours = serializers.BooleanField()
    unaltered = serializers.BooleanField(help_text="The bytes are exactly what we issued.")
    signature_intact = serializers.BooleanField()
    signature_trusted = serializers.BooleanField()
    covers_whole_file = serializers.BooleanField()
    modified_after_signing = serializers.BooleanField()
    signed_by = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    development_seal = serializers.BooleanField()
    sha256 = serializers.CharField()
    record = VerifiedRecordOutput(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
