"""Call types CAD may send: APCO common incident codes used by ACS, plus local types."""

from django.conf import settings

APCO_CALL_TYPES = {
    "WELFARE": "Welfare check",
    "MNTL": "Mental health",
    "SUICTHRT": "Suicide threat",
    "INTOX": "Intoxicated person",
    "VAG": "Vagrancy / unsheltered person",
    "PHANDLE": "Panhandling",
    "DISORD": "Disorderly conduct",
    "TRESPASS": "Trespass",
    "VEHABND": "Abandoned vehicle",
    "CITASST": "Citizen assist",
    "DISTURB": "Disturbance",
    "SICKPER": "Sick person",
    "OVERDOSE": "Overdose",
}


def known_call_types() -> frozenset[str]:
    return frozenset(APCO_CALL_TYPES) | frozenset(settings.CAD_LOCAL_CALL_TYPES)
