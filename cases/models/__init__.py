"""The records of the cases app, split by topic."""

from cases.models.calls import (
    STEP_TIME_FIELDS,
    AssignmentStatus,
    Call,
    CallEvent,
    CallEventType,
    CallSource,
    CallStatus,
    UnitAssignment,
)
from cases.models.encounters import (
    Addendum,
    Disposition,
    Encounter,
    EncounterResident,
    EncounterStatus,
    Need,
    RiskLevel,
    ServiceOnScene,
)
from cases.models.residents import (
    Consent,
    ConsentMethod,
    ConsentScope,
    DobQuality,
    HousingStatus,
    Language,
    Resident,
    ResidentMerge,
)

__all__ = [
    "STEP_TIME_FIELDS",
    "Addendum",
    "AssignmentStatus",
    "Call",
    "CallEvent",
    "CallEventType",
    "CallSource",
    "CallStatus",
    "Consent",
    "ConsentMethod",
    "ConsentScope",
    "Disposition",
    "DobQuality",
    "Encounter",
    "EncounterResident",
    "EncounterStatus",
    "HousingStatus",
    "Language",
    "Need",
    "Resident",
    "ResidentMerge",
    "RiskLevel",
    "ServiceOnScene",
    "UnitAssignment",
]
