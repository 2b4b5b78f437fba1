"""A large synthetic Albuquerque-area directory for benchmarks (`manage.py generate_directory`).

Deterministic for a given seed, written with bulk_create in chunks of CHUNK services (memory
stays flat up to hundreds of thousands of services). Services draw their
category from the seeded "ACS needs" taxonomy and their names, descriptions and hours from that
category, so text, term, open-now and capacity filters select realistic shares of the rows:
overnight and 24-hour shelters, split-hours offices, weekday clinics, a monthly Saturday
clinic and seasonal (1 November to 31 March) warming centers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.db import connection, reset_queries, transaction
from django.utils import timezone

from resources.models import (
    Address,
    Attribute,
    Capacity,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
    capacity_stale_after,
)
from resources.services.search import search_refresh_deferred

# The Albuquerque metro area (Rio Rancho to Isleta, the West Mesa to the Sandia foothills).
LAT_RANGE = (34.98, 35.25)
LON_RANGE = (-106.78, -106.47)
POSTCODES = [f"871{n:02d}" for n in (2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 20, 21, 22, 23)]
STREETS = [
    "Central Ave",
    "Lomas Blvd",
    "Menaul Blvd",
    "Montgomery Blvd",
    "San Mateo Blvd",
    "Wyoming Blvd",
    "Coors Blvd",
    "Isleta Blvd",
    "4th St",
    "Broadway Blvd",
    "Louisiana Blvd",
    "Eubank Blvd",
    "Gibson Blvd",
    "Bridge Blvd",
    "Candelaria Rd",
    "Juan Tabo Blvd",
    "Rio Grande Blvd",
    "Zuni Rd",
    "Academy Rd",
    "Paseo del Norte",
]
OTHER_LANGUAGES = ["nv", "vi", "ar", "zh", "ker"]
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "nv": "Navajo",
    "vi": "Vietnamese",
    "ar": "Arabic",
    "zh": "Chinese",
    "ker": "Keres",
}


# Names are assembled from parts, as a state-wide 211 feed reads: many organisations named after
# places, landscapes, saints and founders, in English and Spanish; services named by kind with
# an audience, a place or a programme word; descriptions of two to four sentences drawn from each
# kind's own sentences and from shared ones (eligibility, how to apply, what to bring). A word
# such as "shelter" then appears in the few percent of services that are shelters, not in a
# quarter of the directory.
PLACES = [
    # Albuquerque neighbourhoods and the towns around it.
    "Nob Hill",
    "Barelas",
    "Martineztown",
    "South Valley",
    "North Valley",
    "Westgate",
    "International District",
    "Wells Park",
    "Old Town",
    "Sawmill",
    "Los Ranchos",
    "Paradise Hills",
    "Ventana Ranch",
    "Four Hills",
    "Ridgecrest",
    "Los Padillas",
    "Atrisco",
    "Pajarito",
    "San Jose",
    "Mountain View",
    "Silver Hill",
    "Huning Highland",
    "Downtown",
    "Uptown",
    "La Mesa",
    "Trumbull",
    "Volcano Cliffs",
    "Taylor Ranch",
    "Netherwood Park",
    "Santa Barbara",
    "Kirtland",
    "Juan Tabo Hills",
    "Bel-Air",
    "Alvarado Park",
    "Vista del Norte",
    "Los Duranes",
    "Los Griegos",
    "Alameda",
    "Eubank",
    "Carnuel",
    "Sandia Heights",
    "Rio Rancho",
    "Corrales",
    "Bernalillo",
    "Placitas",
    "Los Lunas",
    "Belen",
    "Bosque Farms",
    "Peralta",
    "Isleta",
    "Tijeras",
    "Cedar Crest",
    "Edgewood",
    "Moriarty",
    "Estancia",
    "Algodones",
    "Santo Domingo",
    "San Felipe",
    "Cochiti",
    "Jemez",
    "Zia",
    "Laguna",
    "Acoma",
    "Socorro",
    "Grants",
    "Gallup",
    "Santa Fe",
    "Española",
    "Los Alamos",
    "Taos",
    "Las Vegas",
    "Cuba",
    "Magdalena",
    "Mountainair",
    "Tome",
    "Meadow Lake",
    "Valencia",
    "Sandoval",
    "Torrance",
    "Bernalillo County",
    "Duke City",
    "Route 66",
    "Rio Grande",
    "Central Avenue",
]
SYMBOLS = [
    "Bosque",
    "Mesa",
    "Sandia",
    "Manzano",
    "Turquoise",
    "Roadrunner",
    "Yucca",
    "Piñon",
    "Cottonwood",
    "Sunrise",
    "Desert Rose",
    "Canyon",
    "Arroyo",
    "Juniper",
    "Chamisa",
    "Sage",
    "Adobe",
    "Aspen",
    "Zia Sun",
    "Petroglyph",
    "Sunport",
    "Monte Vista",
    "Lomas",
    "Valle",
    "Esperanza",
    "Milagro",
    "Luz",
    "Corazón",
    "Familia",
    "Comunidad",
    "Puente",
    "Camino",
    "Sendero",
    "Nuevo Día",
    "Amistad",
    "Renacer",
    "Paz",
    "Dignidad",
    "Tierra",
    "Cielo",
    "Harvest",
    "Lighthouse",
    "Cornerstone",
    "New Horizons",
    "Open Door",
    "Second Chance",
    "Hopeworks",
    "Common Ground",
    "Pathways",
    "Bridges",
    "Crossroads",
    "Keystone",
    "Wellspring",
    "Evergreen",
    "Blue Sky",
    "Red Mesa",
    "Sun Valley",
    "High Desert",
    "Enchantment",
    "Mariposa",
    "Golondrina",
    "Colibrí",
    "Alborada",
    "Sol y Sombra",
    "Agua Viva",
    "Raíces",
    "Querencia",
]
FOUNDERS = [
    "St. Martin's",
    "St. Vincent de Paul",
    "San Felipe de Neri",
    "Santa Clara",
    "Our Lady of Guadalupe",
    "Good Samaritan",
    "Good Shepherd",
    "Catholic Charities",
    "Lutheran Family",
    "Presbyterian",
    "United Methodist",
    "Jewish Family",
    "Salvation",
    "Sisters of Charity",
    "Dolores Huerta",
    "César Chávez",
    "Fray Angélico",
    "Padre Martínez",
    "Mother Teresa",
    "Dorothy Day",
    "Mary Ann Hill",
    "Hopkins",
    "Romero",
    "Baca",
    "García",
    "Chávez",
    "Montoya",
    "Sandoval",
    "Lucero",
    "Archuleta",
    "Trujillo",
    "Gallegos",
    "Begay",
    "Yazzie",
    "Tsosie",
    "Nguyen",
    "Abernathy",
    "Whitfield",
    "Delgado",
    "Otero",
    "Armijo",
]
ORG_KINDS = [
    "Community Services",
    "Health Center",
    "Mission",
    "Family Resource Center",
    "Outreach",
    "Alliance",
    "Coalition",
    "Foundation",
    "Collective",
    "Network",
    "Partners",
    "Ministries",
    "Project",
    "Association",
    "Council",
    "Society",
    "Cooperative",
    "House",
    "Place",
    "Haven",
    "Community Action Agency",
    "Charities",
    "Aid Society",
    "Resource Center",
    "Mutual Aid",
    "Health Council",
    "Recovery Services",
    "Youth Services",
    "Senior Center",
    "Development Corporation",
    "Behavioral Health",
    "Legal Services",
    "Food Bank",
    "Housing Partnership",
    "Wellness Center",
    "Community Center",
    "Neighborhood Association",
    "Workforce Solutions",
    "Family Services",
    "Counseling Group",
]
ORG_KINDS_ES = [
    ("Centro de Salud", ""),
    ("Centro Familiar", ""),
    ("Casa", ""),
    ("Fundación", ""),
    ("Asociación", "de"),
    ("Red de Apoyo", "de"),
    ("Clínica", ""),
    ("Comunidad", ""),
    ("Centro de Recursos", "de"),
    ("Proyecto", ""),
    ("Hogar", ""),
    ("Cooperativa", "de"),
]
AUDIENCES = [
    ("Women", "mujeres"),
    ("Men", "hombres"),
    ("Veterans", "veteranos"),
    ("Youth", "jóvenes"),
    ("Seniors", "personas mayores"),
    ("Families", "familias"),
    ("Teens", "adolescentes"),
    ("LGBTQ+ Youth", "jóvenes LGBTQ+"),
    ("Native Americans", "nativos americanos"),
    ("Refugees", "refugiados"),
    ("Immigrants", "inmigrantes"),
    ("Students", "estudiantes"),
    ("Pregnant Women", "mujeres embarazadas"),
    ("Adults", "adultos"),
    ("People with Disabilities", "personas con discapacidad"),
    ("Survivors", "sobrevivientes"),
]
PROGRAM_WORDS = [
    "Program",
    "Services",
    "Project",
    "Initiative",
    "Hub",
    "Line",
    "Partnership",
    "Center",
    "Connection",
    "Access Point",
    "Collaborative",
    "Plus",
    "Express",
    "Outreach",
    "Team",
]
GENERIC_SENTENCES = [
    "No appointment needed.",
    "Call ahead to check availability.",
    "Bring a photo ID if you have one; it is not required.",
    "Services are free of charge.",
    "A sliding fee scale based on income applies.",
    "Open to residents of {place}.",
    "Serving {place} and surrounding areas since {year}.",
    "Staff speak English and Spanish.",
    "Interpreters available on request.",
    "Wheelchair accessible; parking on site.",
    "On the {route} bus line.",
    "Referrals accepted from case managers and outreach teams.",
    "Walk in during open hours or call for an intake.",
    "Pets welcome with their owners.",
    "Volunteers run this program with support from local congregations.",
    "Funded in part by the county and private donors.",
    "Confidential and judgment-free.",
    "Eligibility depends on household income.",
    "Ask at the front desk for a caseworker.",
    "Texting is the fastest way to reach us.",
    "Closed on federal holidays.",
]
GENERIC_SENTENCES_ES = [
    "No se necesita cita.",
    "Llame antes para confirmar disponibilidad.",
    "Traiga una identificación si la tiene; no es obligatoria.",
    "Servicios gratuitos.",
    "Tarifa según ingresos.",
    "Abierto para residentes de {place}.",
    "Sirviendo a {place} desde {year}.",
    "Personal bilingüe, inglés y español.",
    "Intérpretes disponibles a pedido.",
    "Acceso para sillas de ruedas.",
    "Aceptamos referidos de trabajadores sociales.",
    "Confidencial y sin juicios.",
    "Pregunte en recepción por un trabajador social.",
    "Cerrado los días feriados.",
]
ROUTES = ["66", "766", "777", "5", "7", "11", "31", "50", "96", "140", "141", "155", "157"]


@dataclass(frozen=True)
class Kind:
    term: str
    names: tuple[str, ...]  # English service names of this kind
    names_es: tuple[str, ...]  # Spanish ones
    sentences: tuple[str, ...]  # what the service does, in English
    sentences_es: tuple[str, ...]
    hours: str  # key of HOURS
    capacity_unit: str = ""  # blank: no live capacity


KINDS: list[tuple[int, Kind]] = [
    (
        3,
        Kind(
            "shelter-emergency",
            (
                "Overnight emergency shelter",
                "Night shelter",
                "Emergency beds",
                "Men's shelter",
                "Women's overnight shelter",
                "Low-barrier shelter",
                "Winter beds",
                "Safe sleep site",
            ),
            ("Albergue nocturno", "Refugio de emergencia", "Camas de emergencia"),
            (
                "Overnight beds for adults, walk-ins welcome in the evening.",
                "Emergency shelter with lockers, showers and a hot dinner.",
                "Low-barrier beds: partners, pets and possessions welcome.",
                "Check-in starts at 6 pm; beds are first come, first served.",
            ),
            (
                "Camas para adultos, se recibe sin cita por la noche.",
                "Albergue con casilleros, duchas y cena caliente.",
            ),
            "overnight",
            "beds",
        ),
    ),
    (
        1,
        Kind(
            "shelter-family",
            (
                "Family shelter",
                "Family emergency housing",
                "Family overnight program",
                "Shelter for families with children",
            ),
            ("Albergue familiar", "Refugio para familias"),
            (
                "Private rooms for families with children, meals included.",
                "Families stay together; school transport arranged for children.",
            ),
            ("Cuartos privados para familias con niños, comidas incluidas.",),
            "always",
            "family rooms",
        ),
    ),
    (
        1,
        Kind(
            "shelter-youth",
            ("Youth shelter", "Youth drop-in and beds", "Teen shelter", "Runaway youth shelter"),
            ("Albergue juvenil", "Refugio para jóvenes"),
            (
                "Beds and case management for young people 14 to 24.",
                "A safe place to sleep for youth, no questions asked.",
            ),
            ("Camas y apoyo para jóvenes de 14 a 24 años.",),
            "overnight",
            "beds",
        ),
    ),
    (
        1,
        Kind(
            "shelter-warming",
            ("Winter warming center", "Seasonal warming center", "Cold weather shelter"),
            ("Centro de calentamiento", "Refugio de invierno"),
            (
                "Cots, blankets and hot drinks on winter nights.",
                "Opens when temperatures drop below freezing.",
            ),
            ("Catres, cobijas y bebidas calientes en noches de invierno.",),
            "seasonal",
            "cots",
        ),
    ),
    (
        2,
        Kind(
            "crisis-stabilization",
            (
                "Crisis stabilization unit",
                "Behavioral health crisis center",
                "Crisis triage center",
                "Mobile crisis line",
                "Walk-in crisis care",
                "Crisis respite",
            ),
            ("Centro de crisis", "Línea de crisis", "Atención de crisis sin cita"),
            (
                "Walk-in crisis care around the clock, no referral needed.",
                "Short stays for adults in a mental health crisis.",
                "Peer support specialists and clinicians on site.",
            ),
            ("Atención de crisis las 24 horas, sin referido.",),
            "always",
            "recliners",
        ),
    ),
    (
        1,
        Kind(
            "detox",
            (
                "Detox program",
                "Withdrawal management",
                "Medical detox",
                "Sobering center",
                "Social detox",
            ),
            ("Programa de desintoxicación", "Centro de sobriedad"),
            (
                "Medically supported withdrawal, admission any time.",
                "A safe place to sober up with nurses on duty.",
            ),
            ("Desintoxicación con apoyo médico, admisión a cualquier hora.",),
            "always",
            "beds",
        ),
    ),
    (
        6,
        Kind(
            "health-primary",
            (
                "Community clinic",
                "Walk-in clinic",
                "Primary care",
                "Family medicine",
                "Health care for the homeless",
                "Mobile medical van",
                "Women's health clinic",
                "Urgent care",
                "Pediatric clinic",
                "Wound care clinic",
                "Street medicine",
                "Vision screening",
                "Diabetes care",
                "Immunizations",
            ),
            (
                "Clínica comunitaria",
                "Atención primaria",
                "Clínica móvil",
                "Salud de la mujer",
                "Vacunas",
            ),
            (
                "Primary care on a sliding scale, uninsured patients seen.",
                "Checkups, prescriptions and chronic disease care.",
                "Nurses and doctors see patients on a first come basis.",
                "A medical van that parks at encampments and parks.",
            ),
            (
                "Atención médica con tarifa según ingresos, se atiende sin seguro.",
                "Chequeos, recetas y cuidado de enfermedades crónicas.",
            ),
            "weekdays",
        ),
    ),
    (
        2,
        Kind(
            "health-dental",
            (
                "Dental clinic",
                "Free dental day",
                "Dental van",
                "Emergency dental care",
                "Children's dentistry",
            ),
            ("Clínica dental", "Día dental gratuito"),
            (
                "Cleanings and extractions, first Saturday of the month.",
                "Dental exams and fillings for adults without insurance.",
            ),
            ("Limpiezas y extracciones, primer sábado del mes.",),
            "monthly",
        ),
    ),
    (
        8,
        Kind(
            "food-pantry",
            (
                "Food pantry",
                "Grocery distribution",
                "Food box program",
                "Mobile food pantry",
                "Emergency food",
                "Produce giveaway",
                "Senior food boxes",
                "Commodity foods",
                "Baby formula and diapers",
                "Weekend backpacks",
                "Fresh market",
            ),
            (
                "Despensa de alimentos",
                "Banco de comida",
                "Distribución de comida",
                "Mercado gratis",
            ),
            (
                "Groceries to take home once a week.",
                "Canned goods, bread, produce and dairy when available.",
                "Boxes of food for households; bring your own bags.",
                "Drive-through distribution in the parking lot.",
            ),
            (
                "Comestibles para llevar a casa una vez por semana.",
                "Cajas de comida para familias; traiga sus bolsas.",
            ),
            "split",
        ),
    ),
    (
        5,
        Kind(
            "food-meals",
            (
                "Community kitchen",
                "Hot meals",
                "Soup kitchen",
                "Free breakfast",
                "Sack lunches",
                "Community dinner",
                "Meals on wheels",
                "Senior lunch",
            ),
            ("Comedor comunitario", "Comidas calientes", "Desayuno gratis"),
            (
                "Breakfast and dinner served on site, everyone welcome.",
                "Hot meals with no questions asked.",
                "Sack lunches handed out at the door.",
            ),
            ("Desayuno y cena en el lugar, todos son bienvenidos.",),
            "meals",
        ),
    ),
    (
        3,
        Kind(
            "id-documents",
            (
                "ID document help",
                "Birth certificate assistance",
                "ID clinic",
                "Social Security card help",
                "Vital records assistance",
            ),
            ("Ayuda con documentos", "Actas de nacimiento"),
            (
                "Help getting state IDs, birth certificates and Social Security cards.",
                "Fee waivers for identification documents.",
            ),
            ("Ayuda para obtener identificaciones y actas de nacimiento.",),
            "split",
        ),
    ),
    (
        5,
        Kind(
            "benefits",
            (
                "Benefits enrollment",
                "SNAP and Medicaid help",
                "Benefits counseling",
                "Disability benefits advocacy",
                "Tax preparation",
                "Utility assistance",
                "Energy bill help",
                "Phone program",
            ),
            ("Inscripción en beneficios", "Ayuda con SNAP y Medicaid", "Asistencia con facturas"),
            (
                "Applications for SNAP, Medicaid, SSI and SSDI.",
                "Help paying gas, water and electric bills.",
                "Free tax returns for low-income households.",
            ),
            ("Solicitudes de SNAP, Medicaid, SSI y SSDI.",),
            "weekdays",
        ),
    ),
    (
        6,
        Kind(
            "housing",
            (
                "Rapid rehousing",
                "Supportive housing program",
                "Housing navigation",
                "Rental assistance",
                "Eviction prevention",
                "Landlord liaison",
                "Transitional housing",
                "Section 8 application help",
                "Home repair program",
                "Tenant counseling",
            ),
            ("Vivienda de apoyo", "Asistencia con la renta", "Prevención de desalojo"),
            (
                "Housing search, deposits and vouchers.",
                "Back rent and deposits for households facing eviction.",
                "Case managers help people move from the street into an apartment.",
            ),
            (
                "Búsqueda de vivienda, depósitos y vales.",
                "Ayuda con la renta atrasada para evitar el desalojo.",
            ),
            "weekdays",
        ),
    ),
    (
        6,
        Kind(
            "behavioral-health",
            (
                "Counseling center",
                "Mental health services",
                "Therapy for adults",
                "Psychiatric care",
                "Grief support group",
                "Trauma therapy",
                "Peer support",
                "Child and family counseling",
                "Anger management classes",
            ),
            ("Consejería", "Salud mental", "Grupo de apoyo"),
            (
                "Counseling and psychiatric care for adults.",
                "Individual and group therapy; Medicaid accepted.",
                "Peer-run support groups every week.",
            ),
            ("Consejería y atención psiquiátrica para adultos.",),
            "split",
        ),
    ),
    (
        3,
        Kind(
            "substance-use-harm-reduction",
            (
                "Harm reduction outreach",
                "Syringe services",
                "Naloxone distribution",
                "Overdose prevention",
                "Recovery coaching",
                "Medication for opioid use disorder",
            ),
            ("Reducción de daños", "Naloxona gratis"),
            (
                "Naloxone, testing and syringe services.",
                "Fentanyl test strips and overdose response training.",
                "Buprenorphine started the same day.",
            ),
            ("Naloxona, pruebas y jeringas limpias.",),
            "evenings",
        ),
    ),
    (
        2,
        Kind(
            "hygiene",
            (
                "Showers and laundry",
                "Hygiene center",
                "Mobile showers",
                "Laundry day",
                "Haircuts and hygiene kits",
            ),
            ("Duchas y lavandería", "Higiene personal"),
            (
                "Hot showers, laundry and hygiene supplies.",
                "Towels, soap and a change of clothes provided.",
            ),
            ("Duchas calientes, lavandería y artículos de higiene.",),
            "weekdays",
        ),
    ),
    (
        2,
        Kind(
            "legal",
            (
                "Legal aid clinic",
                "Tenant legal help",
                "Immigration legal services",
                "Expungement clinic",
                "Family law help",
                "Driver's license reinstatement",
            ),
            ("Ayuda legal", "Servicios legales de inmigración"),
            (
                "Free legal advice on housing, benefits and records.",
                "Lawyers help clear old warrants and fines.",
            ),
            ("Asesoría legal gratuita sobre vivienda y beneficios.",),
            "weekdays",
        ),
    ),
    (
        2,
        Kind(
            "employment",
            (
                "Job center",
                "Employment training",
                "Day labor center",
                "Resume help",
                "Job readiness class",
                "Apprenticeship program",
            ),
            ("Centro de empleo", "Capacitación laboral"),
            ("Job training and placement.", "Computers, resume help and interview clothes."),
            ("Capacitación y colocación laboral.",),
            "weekdays",
        ),
    ),
    (
        2,
        Kind(
            "domestic-violence",
            (
                "Domestic violence shelter",
                "Survivor advocacy line",
                "Safe house",
                "Protective order help",
                "Sexual assault services",
            ),
            ("Refugio para víctimas de violencia doméstica", "Línea de apoyo para sobrevivientes"),
            (
                "Safe shelter and advocacy for survivors, confidential location.",
                "Advocates answer the line day and night.",
            ),
            ("Refugio seguro y apoyo para sobrevivientes.",),
            "always",
            "beds",
        ),
    ),
    (
        1,
        Kind(
            "veterans",
            (
                "Veterans resource center",
                "Veterans housing help",
                "Vet center",
                "Veterans benefits office",
                "Homeless veterans outreach",
            ),
            ("Centro para veteranos",),
            (
                "Benefits, housing and peer support for veterans.",
                "VA claims, discharge upgrades and HUD-VASH vouchers.",
            ),
            ("Beneficios, vivienda y apoyo para veteranos.",),
            "weekdays",
        ),
    ),
    (
        1,
        Kind(
            "transportation",
            (
                "Ride program",
                "Bus pass assistance",
                "Medical rides",
                "Gas vouchers",
                "Bicycle program",
            ),
            ("Programa de transporte", "Pases de autobús"),
            ("Rides and bus passes to appointments.", "Free rides to medical appointments."),
            ("Transporte y pases de autobús para citas.",),
            "weekdays",
        ),
    ),
]

WEEKDAYS = "MO,TU,WE,TH,FR"


def _hours(kind: str, today: date) -> list[dict]:
    """Schedule rows (without owner) for one of the hour patterns."""
    if kind == "overnight":
        return [{"opens_at": time(19), "closes_at": time(7), "description": "Nightly 7pm-7am"}]
    if kind == "always":
        return [{"opens_at": time(0), "closes_at": time(0), "description": "24 hours"}]
    if kind == "seasonal":
        start = date(today.year if today.month >= 11 else today.year - 1, 11, 1)
        return [
            {
                "opens_at": time(18),
                "closes_at": time(8),
                "valid_from": start,
                "valid_to": date(start.year + 1, 3, 31),
                "description": "Winter nights, 1 November to 31 March",
            }
        ]
    if kind == "weekdays":
        return [
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(8), "closes_at": time(17)},
        ]
    if kind == "split":
        return [
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(9), "closes_at": time(12)},
            {"freq": "WEEKLY", "byday": WEEKDAYS, "opens_at": time(13), "closes_at": time(16)},
        ]
    if kind == "meals":
        return [
            {"opens_at": time(7), "closes_at": time(9), "description": "Breakfast"},
            {"opens_at": time(17), "closes_at": time(19), "description": "Dinner"},
        ]
    if kind == "monthly":
        return [{"freq": "MONTHLY", "byday": "1SA", "opens_at": time(9), "closes_at": time(13)}]
    if kind == "evenings":
        return [
            {"freq": "WEEKLY", "byday": "MO,WE,FR,SA", "opens_at": time(16), "closes_at": time(23)}
        ]
    raise ValueError(kind)


def _org_name(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.25:
        return f"{rng.choice(PLACES)} {rng.choice(ORG_KINDS)}"
    if pick < 0.5:
        return f"{rng.choice(SYMBOLS)} {rng.choice(ORG_KINDS)}"
    if pick < 0.65:
        return f"{rng.choice(FOUNDERS)} {rng.choice(ORG_KINDS)}"
    if pick < 0.75:
        return f"{rng.choice(SYMBOLS)} {rng.choice(ORG_KINDS)} of {rng.choice(PLACES)}"
    head, joiner = rng.choice(ORG_KINDS_ES)
    tail = rng.choice(PLACES) if joiner else rng.choice(SYMBOLS)
    return " ".join(part for part in (head, joiner, tail) if part)


def _service_name(rng: random.Random, kind: Kind, org_name: str, spanish: bool) -> str:
    if spanish:
        base = rng.choice(kind.names_es)
        pick = rng.random()
        if pick < 0.35:
            return base
        if pick < 0.7:
            return f"{base} para {rng.choice(AUDIENCES)[1]}"
        return f"{base} {rng.choice(PLACES)}"
    base = rng.choice(kind.names)
    pick = rng.random()
    if pick < 0.25:
        return base
    if pick < 0.45:
        return f"{rng.choice(PLACES)} {base}"
    if pick < 0.6:
        return f"{base} for {rng.choice(AUDIENCES)[0]}"
    if pick < 0.75:
        return f"{org_name.split()[0]} {base} {rng.choice(PROGRAM_WORDS)}"
    if pick < 0.9:
        return f"{base} - {rng.choice(PLACES)}"
    return f"{rng.choice(SYMBOLS)} {base}"


def _description(rng: random.Random, kind: Kind, spanish: bool) -> str:
    own = kind.sentences_es if spanish else kind.sentences
    shared = GENERIC_SENTENCES_ES if spanish else GENERIC_SENTENCES
    picked = [rng.choice(own), *rng.sample(shared, rng.randint(1, 3))]
    return " ".join(picked).format(
        place=rng.choice(PLACES), year=rng.randint(1962, 2024), route=rng.choice(ROUTES)
    )


def _org_sizes(rng: random.Random, services: int) -> list[int]:
    """How many services each organization runs: most one or two, a few a dozen (4 on average)."""
    sizes = []
    left = services
    while left:
        size = min(left, rng.choice((1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 12)))
        sizes.append(size)
        left -= size
    return sizes


CHUNK = 2000  # services written per transaction: memory stays flat at any size


def generate_directory(
    *, services: int, seed: int = 4, progress: Callable[[int], None] = lambda n: None
) -> dict[str, int]:
    """Add `services` synthetic services (with organizations, locations, addresses, services
    at locations, schedules, languages, attributes, phones and capacities). Returns counts.

    Written CHUNK services at a time, each chunk in its own transaction; `progress` is called
    with the number of services written after each chunk."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    terms = {t.code: t for t in TaxonomyTerm.objects.filter(taxonomy__name="ACS needs")}
    missing = {kind.term for _, kind in KINDS} - set(terms)
    if missing:
        raise LookupError(f"The 'ACS needs' taxonomy lacks {sorted(missing)}: migrate first.")
    counts: dict[str, int] = defaultdict(int)
    done = 0
    while done < services:
        size = min(CHUNK, services - done)
        # Each chunk's search documents once (its services, then their terms, refresh them).
        with transaction.atomic(), search_refresh_deferred():
            for name, n in _generate_chunk(rng, terms, first=done, size=size).items():
                counts[name] += n
        done += size
        reset_queries()  # with DEBUG on, Django keeps every statement: 2,000 rows each
        progress(done)
    # bulk_create sent no signals: the opening intervals (open now) are built here, in
    # batches, over the whole rolling window.
    from resources.services.opening_hours import opening_intervals_roll

    opening_intervals_roll(force=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return dict(counts)


def _generate_chunk(
    rng: random.Random, terms: dict[str, TaxonomyTerm], *, first: int, size: int
) -> dict[str, int]:
    today = timezone.localdate()
    now = timezone.now()
    weights = [w for w, _ in KINDS]
    kinds = [k for _, k in KINDS]
    sizes = _org_sizes(rng, size)
    orgs = Organization.objects.bulk_create(
        Organization(
            name=_org_name(rng),
            description="A synthetic organization for benchmarks.",
            email=f"info{first + i + 1}@example.org",
            website=f"https://org{first + i + 1}.example.org",
        )
        for i in range(len(sizes))
    )
    owners = [org for org, n in zip(orgs, sizes, strict=True) for _ in range(n)]
    service_kinds = rng.choices(kinds, weights=weights, k=size)
    service_rows = []
    spanish_text = []
    for org, kind in zip(owners, service_kinds, strict=True):
        spanish = rng.random() < 0.2
        spanish_text.append(spanish)
        service_rows.append(
            Service(
                organization=org,
                name=_service_name(rng, kind, org.name, spanish),
                description=_description(rng, kind, spanish),
                status="active" if rng.random() > 0.03 else "inactive",
                accepts_referrals=rng.random() < 0.4,
                last_verified_at=now - timedelta(days=rng.randint(0, 400)),
            )
        )
    service_objs = Service.objects.bulk_create(service_rows)

    # One location per service, and every tenth service also at a second one.
    location_rows, placements = [], []
    for i, service in enumerate(service_objs):
        for _ in range(2 if (first + i) % 10 == 0 else 1):
            location = Location(
                organization=service.organization,
                name=f"{service.organization.name} - {rng.choice(PLACES)}",
                latitude=Decimal(f"{rng.uniform(*LAT_RANGE):.6f}"),
                longitude=Decimal(f"{rng.uniform(*LON_RANGE):.6f}"),
            )
            location_rows.append(location)
            placements.append((service, service_kinds[i], spanish_text[i], location))
    locations = Location.objects.bulk_create(location_rows)
    Address.objects.bulk_create(
        Address(
            location=location,
            address_1=f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
            city="Albuquerque",
            state_province="NM",
            postal_code=rng.choice(POSTCODES),
        )
        for location in locations
    )
    sals = ServiceAtLocation.objects.bulk_create(
        ServiceAtLocation(service=s, location=loc) for s, _, _, loc in placements
    )

    schedule_rows, language_rows, attribute_rows, phone_rows, capacity_rows = [], [], [], [], []
    seen_services: set[int] = set()
    for sal, (service, kind, spanish, location) in zip(sals, placements, strict=True):
        # Hours at the service (most), the location or the service at location.
        level = rng.random()
        owner = (
            {"service": service}
            if level < 0.7
            else {"location": location}
            if level < 0.85
            else {"service_at_location": sal}
        )
        if service.pk not in seen_services or "service" not in owner:
            for row in _hours(kind.hours, today):
                schedule_rows.append(Schedule(**owner, **row))
        if rng.random() < 0.02:  # a holiday closure
            schedule_rows.append(
                Schedule(**owner, closed=True, valid_from=today + timedelta(days=2))
            )
        if kind.capacity_unit:
            total = rng.randint(4, 120)
            capacity_rows.append(
                Capacity(
                    service_at_location=sal,
                    total=total,
                    available=rng.randint(0, total) if rng.random() < 0.7 else 0,
                    unit=kind.capacity_unit,
                )
            )
        if rng.random() < 0.15:
            language_rows.append(Language(location=location, code="es", name="Spanish"))
        if service.pk in seen_services:
            continue
        seen_services.add(service.pk)
        attribute_rows.append(Attribute(service=service, taxonomy_term=terms[kind.term]))
        language_rows.append(Language(service=service, code="en", name="English"))
        if spanish or rng.random() < 0.35:
            language_rows.append(Language(service=service, code="es", name="Spanish"))
        if rng.random() < 0.05:
            code = rng.choice(OTHER_LANGUAGES)
            language_rows.append(Language(service=service, code=code, name=LANGUAGE_NAMES[code]))
        phone_rows.append(
            Phone(
                service=service,
                number=f"505-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
            )
        )
    Schedule.objects.bulk_create(schedule_rows)
    Language.objects.bulk_create(language_rows)
    Attribute.objects.bulk_create(attribute_rows)
    Phone.objects.bulk_create(phone_rows)
    capacities = Capacity.objects.bulk_create(capacity_rows)
    # bulk_create stamps updated_at now; make a fifth of the figures stale.
    stale_ids = [c.pk for c in capacities if rng.random() < 0.2]
    Capacity.objects.filter(pk__in=stale_ids).update(
        updated_at=now - capacity_stale_after() - timedelta(hours=1)
    )
    return {
        "organizations": len(orgs),
        "services": len(service_objs),
        "locations": len(locations),
        "services_at_locations": len(sals),
        "schedules": len(schedule_rows),
        "languages": len(language_rows),
        "attributes": len(attribute_rows),
        "capacities": len(capacities),
    }
