"""The synthetic directory's words: organizations' and services' names and descriptions."""

from __future__ import annotations

import random

from resources.synthetic.kinds import Kind

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


def org_name(rng: random.Random) -> str:
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


def service_name(rng: random.Random, kind: Kind, org_name: str, spanish: bool) -> str:
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


def description(rng: random.Random, kind: Kind, spanish: bool) -> str:
    own = kind.sentences_es if spanish else kind.sentences
    shared = GENERIC_SENTENCES_ES if spanish else GENERIC_SENTENCES
    picked = [rng.choice(own), *rng.sample(shared, rng.randint(1, 3))]
    return " ".join(picked).format(
        place=rng.choice(PLACES), year=rng.randint(1962, 2024), route=rng.choice(ROUTES)
    )
