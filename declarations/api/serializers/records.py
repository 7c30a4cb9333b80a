"""Serializers of records, exports and verification (the views are in ``api/records.py``)."""

from __future__ import annotations

from rest_framework import serializers

from declarations.api.serializers.common import StrictCharField, StrictSerializer, StrictUUIDField
from declarations.choices import (
    DeclarationState,
    ExportFailure,
    ExportStatus,
    RecordKind,
    RecordStatus,
    VerificationProblem,
)
from declarations.dates import validate_typed_date
from declarations.records.labels import LANGUAGES

#: the languages a record is rendered in: kk, ru, en, or kk and ru side by side
RECORD_LANGUAGES = [(code, code) for code in LANGUAGES]

# ---- inputs -------------------------------------------------------------------------------


class ExportInput(StrictSerializer):
    """What to export: empty filters mean every registered declaration of every body you audit."""

    body = serializers.ListField(
        child=StrictCharField(max_length=64, multiline=False),
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
        choices=RECORD_LANGUAGES,
        required=False,
        help_text="The dossiers' language; default: the request's (Accept-Language).",
    )


class VerifyInput(StrictSerializer):
    file = serializers.FileField(help_text="The PDF to check.")


# ---- outputs ------------------------------------------------------------------------------


class RecordOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.ChoiceField(
        choices=RecordStatus.choices, help_text="pending (being issued), issued, failed."
    )
    language = serializers.ChoiceField(choices=RECORD_LANGUAGES)
    verification_code = serializers.CharField()
    sha256 = serializers.CharField(help_text="Empty until issued.")
    size = serializers.IntegerField(allow_null=True)
    pages = serializers.IntegerField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    sealed_by = serializers.CharField(source="seal_subject")
    development_seal = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ExportFiltersOutput(serializers.Serializer):
    """The filters the export was started with, as stored, with the defaults filled in."""

    body = serializers.ListField(
        child=serializers.CharField(), help_text="State bodies' short names; empty: all yours."
    )
    unit = serializers.CharField(help_text="The unit's id; empty: every unit.")
    submitted_from = serializers.DateField(allow_null=True)
    submitted_to = serializers.DateField(allow_null=True)
    state = serializers.ListField(
        child=serializers.ChoiceField(choices=DeclarationState.choices),
        help_text="Empty: every registered state.",
    )


class ExportOutput(serializers.Serializer):
    id = serializers.UUIDField(source="code")
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    filters = ExportFiltersOutput()
    language = serializers.ChoiceField(choices=RECORD_LANGUAGES)
    total = serializers.IntegerField(help_text="Declarations in the export (0 until planned).")
    done = serializers.IntegerField(help_text="Dossiers issued so far.")
    size = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(help_text="Of the ZIP, once done.")
    failure = serializers.ChoiceField(
        choices=ExportFailure.choices,
        allow_blank=True,
        help_text="Why it failed: planning, dossier, packing or stalled; empty otherwise.",
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
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    kind_display = serializers.CharField()
    verification_code = serializers.CharField()
    registration_number = serializers.CharField(allow_null=True)
    state_body = serializers.CharField()
    issued_at = serializers.DateTimeField(allow_null=True)
    sha256 = serializers.CharField()
    pages = serializers.IntegerField(allow_null=True)


class PersonalSignatureVerdictOutput(serializers.Serializer):
    file = serializers.CharField()
    valid = serializers.BooleanField()
    signer = serializers.CharField()
    iin = serializers.CharField(required=False, help_text="Masked.")
    signed_at = serializers.DateTimeField(required=False, allow_null=True)
    problem = serializers.CharField(help_text="Why it is not valid; empty when valid.")


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
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="Why it is not valid, for people, in the caller's language.",
    )
    problem_codes = serializers.ListField(
        child=serializers.ChoiceField(choices=VerificationProblem.choices),
        help_text="The same problems as stable codes for programs, in the same order.",
    )
    personal_signatures = PersonalSignatureVerdictOutput(
        many=True, help_text="Each person's own signature embedded in the record, verified again."
    )
