"""Input and output serializers, kept apart (STYLE.md rule 18), one module per resource. No
business logic here.

Views import the package (``from declarations.api import serializers as io``) and name the
class: ``io.DeclarationDetailOutput``. Every serializer is re-exported here.
"""

from __future__ import annotations

from declarations.api.serializers.common import (
    BodyOutput,
    ErrorOutput,
    PersonOutput,
    StrictBooleanField,
    StrictCharField,
    StrictSerializer,
    StrictUUIDField,
    UserRefField,
    UserRefOutput,
    user_ref,
)
from declarations.api.serializers.declarations import (
    AttachmentInput,
    AttachmentOutput,
    DecideInput,
    DeclarationCreateInput,
    DeclarationDetailOutput,
    DeclarationOutput,
    DeclarationUpdateInput,
    EventOutput,
    NoticeFieldsInput,
    ReasonInput,
    ReassignReviewerInput,
    SourceOutput,
    TextInput,
)
from declarations.api.serializers.measures import (
    ConsentInput,
    ImplementInput,
    MeasureInput,
    MeasureOutput,
)
from declarations.api.serializers.people import (
    ApiTokenOutput,
    MeOutput,
    MeServantOutput,
    PositionOutput,
    RolesOutput,
    ServantOutput,
    TokenInput,
    TokenOutput,
    VacantPositionOutput,
)
from declarations.api.serializers.records import (
    ExportInput,
    ExportOutput,
    RecordOutput,
    VerdictOutput,
    VerifiedRecordOutput,
    VerifyInput,
)

__all__ = [
    "ApiTokenOutput",
    "AttachmentInput",
    "AttachmentOutput",
    "BodyOutput",
    "ConsentInput",
    "DecideInput",
    "DeclarationCreateInput",
    "DeclarationDetailOutput",
    "DeclarationOutput",
    "DeclarationUpdateInput",
    "ErrorOutput",
    "EventOutput",
    "ExportInput",
    "ExportOutput",
    "ImplementInput",
    "MeOutput",
    "MeServantOutput",
    "MeasureInput",
    "MeasureOutput",
    "NoticeFieldsInput",
    "PersonOutput",
    "PositionOutput",
    "ReasonInput",
    "ReassignReviewerInput",
    "RecordOutput",
    "RolesOutput",
    "ServantOutput",
    "SourceOutput",
    "StrictBooleanField",
    "StrictCharField",
    "StrictSerializer",
    "StrictUUIDField",
    "TextInput",
    "TokenInput",
    "TokenOutput",
    "UserRefField",
    "UserRefOutput",
    "VacantPositionOutput",
    "VerdictOutput",
    "VerifiedRecordOutput",
    "VerifyInput",
    "user_ref",
]
