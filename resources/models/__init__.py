"""The records of the resources app: the directory (HSDS) and the referrals to it."""

from resources.models.capacity import Capacity, CapacityHistory, capacity_stale_after
from resources.models.details import (
    Contact,
    CostOption,
    Language,
    Phone,
    PhoneType,
    RequiredDocument,
)
from resources.models.directory import (
    EARTH_RADIUS_KM,
    Address,
    Location,
    LocationType,
    Organization,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    earth_point,
)
from resources.models.hsds_imports import HsdsImportRun
from resources.models.opening_hours import OpeningHoursWindow, OpeningInterval
from resources.models.referrals import (
    CLOSED_STATUSES,
    COMPLETED_OUTCOMES,
    OPEN_STATUSES,
    TO_REROUTE,
    WAITING_ON_PARTNER,
    DeliveryStatus,
    IdempotencyKey,
    Referral,
    ReferralEvent,
    ReferralOutcome,
    ReferralStatus,
    ReferralUrgency,
    WebhookDelivery,
    WebhookEndpoint,
)
from resources.models.schedules import Schedule, ScheduleFreq, Weekday
from resources.models.search import DirectoryWord, ServiceSearchDocument
from resources.models.taxonomy import Attribute, Taxonomy, TaxonomyTerm

__all__ = [
    "CLOSED_STATUSES",
    "COMPLETED_OUTCOMES",
    "EARTH_RADIUS_KM",
    "OPEN_STATUSES",
    "TO_REROUTE",
    "WAITING_ON_PARTNER",
    "Address",
    "Attribute",
    "Capacity",
    "CapacityHistory",
    "Contact",
    "CostOption",
    "DeliveryStatus",
    "DirectoryWord",
    "HsdsImportRun",
    "IdempotencyKey",
    "Language",
    "Location",
    "LocationType",
    "OpeningHoursWindow",
    "OpeningInterval",
    "Organization",
    "Phone",
    "PhoneType",
    "Referral",
    "ReferralEvent",
    "ReferralOutcome",
    "ReferralStatus",
    "ReferralUrgency",
    "RequiredDocument",
    "Schedule",
    "ScheduleFreq",
    "Service",
    "ServiceAtLocation",
    "ServiceSearchDocument",
    "ServiceStatus",
    "Taxonomy",
    "TaxonomyTerm",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Weekday",
    "capacity_stale_after",
    "earth_point",
]
