"""Models, split by subdomain (STYLE.md rule 5), re-exported here."""

from __future__ import annotations

from declarations.models.access import AccessEvent, Checkpoint
from declarations.models.attachments import Attachment
from declarations.models.audit import AppendOnlyError, AuditEvent
from declarations.models.calendar import CalendarOverride
from declarations.models.deadlines import Deadline, ReminderRule
from declarations.models.declaration import (
    NOTICE_FIELDS,
    Declaration,
    RegistrationCounter,
    declaration_state_for,
)
from declarations.models.legal import LegalBasis, LegalReference
from declarations.models.measures import NEEDS_HR, Decision, Measure
from declarations.models.notifications import Notification, NotificationPreference
from declarations.models.organization import Position, RoleGrant, Servant, StateBody, Unit
from declarations.models.preferences import UserPreference
from declarations.models.records import ExportJob, Record
from declarations.models.scheduling import ScheduledJob
from declarations.models.signatures import PersonalSignature
from declarations.models.tokens import ApiToken

__all__ = [
    "NEEDS_HR",
    "NOTICE_FIELDS",
    "AccessEvent",
    "ApiToken",
    "AppendOnlyError",
    "Attachment",
    "AuditEvent",
    "CalendarOverride",
    "Checkpoint",
    "Deadline",
    "Decision",
    "Declaration",
    "ExportJob",
    "LegalBasis",
    "LegalReference",
    "Measure",
    "Notification",
    "NotificationPreference",
    "PersonalSignature",
    "Position",
    "Record",
    "RegistrationCounter",
    "ReminderRule",
    "RoleGrant",
    "ScheduledJob",
    "Servant",
    "StateBody",
    "Unit",
    "UserPreference",
    "declaration_state_for",
]
