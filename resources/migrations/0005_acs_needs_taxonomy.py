"""Data: the "ACS needs" taxonomy, the categories of shared/DOMAIN.md, with fixed UUIDs."""

import uuid

from django.db import migrations

NAMESPACE = uuid.UUID("0b6f3c1e-6c1a-4f7e-9d8e-2a5f7c9e4b10")
TAXONOMY = "ACS needs"

# code, name, description, parent code
TERMS = [
    ("shelter", "Shelter", "Emergency and overnight shelter.", None),
    ("shelter-emergency", "Emergency shelter", "Overnight beds, walk-ins.", "shelter"),
    ("shelter-family", "Family shelter", "Shelter for families with children.", "shelter"),
    ("shelter-youth", "Youth shelter", "Shelter for young people under 25.", "shelter"),
    ("shelter-warming", "Warming center", "Seasonal warming or cooling center.", "shelter"),
    (
        "crisis",
        "Crisis and detox",
        "Behavioral health crisis care and withdrawal management.",
        None,
    ),
    ("crisis-stabilization", "Crisis stabilization", "Walk-in crisis stabilization.", "crisis"),
    ("detox", "Detox", "Medically supported withdrawal management.", "crisis"),
    ("health", "Clinic and health", "Primary and urgent care, clinics.", None),
    (
        "health-primary",
        "Primary care clinic",
        "Primary care, including uninsured patients.",
        "health",
    ),
    ("health-dental", "Dental care", "Dental clinics.", "health"),
    ("food", "Food", "Food pantries and meals.", None),
    ("food-pantry", "Food pantry", "Groceries to take home.", "food"),
    ("food-meals", "Hot meals", "Prepared meals served on site.", "food"),
    (
        "id-documents",
        "ID documents",
        "Help getting IDs, birth certificates, Social Security cards.",
        None,
    ),
    (
        "benefits",
        "Benefits",
        "Help applying for SNAP, Medicaid, SSI/SSDI and other benefits.",
        None,
    ),
    (
        "housing",
        "Housing",
        "Housing programs: rapid rehousing, supportive housing, vouchers.",
        None,
    ),
    ("behavioral-health", "Behavioral health", "Mental health counseling and treatment.", None),
    (
        "substance-use",
        "Substance use",
        "Substance use treatment, recovery and harm reduction.",
        None,
    ),
    (
        "substance-use-harm-reduction",
        "Harm reduction",
        "Naloxone, syringe services.",
        "substance-use",
    ),
    ("transportation", "Transportation", "Rides and bus passes to services.", None),
    ("hygiene", "Showers and hygiene", "Showers, laundry, hygiene supplies.", None),
    ("legal", "Legal aid", "Free legal help.", None),
    ("employment", "Employment", "Job training and placement.", None),
    ("domestic-violence", "Domestic violence", "Safety, shelter and advocacy for survivors.", None),
    ("veterans", "Veterans", "Services for veterans.", None),
]


def term_uuid(code):
    return uuid.uuid5(NAMESPACE, f"term:{code}")


def forwards(apps, schema_editor):
    Taxonomy = apps.get_model("resources", "Taxonomy")
    TaxonomyTerm = apps.get_model("resources", "TaxonomyTerm")
    taxonomy, _ = Taxonomy.objects.update_or_create(
        public_id=uuid.uuid5(NAMESPACE, "taxonomy"),
        defaults={
            "name": TAXONOMY,
            "description": "Needs and service categories used by Albuquerque Community Safety.",
            "version": "1",
        },
    )
    by_code = {}
    for code, name, description, parent in TERMS:
        by_code[code], _ = TaxonomyTerm.objects.update_or_create(
            public_id=term_uuid(code),
            defaults={
                "taxonomy": taxonomy,
                "code": code,
                "name": name,
                "description": description,
                "parent": by_code[parent] if parent else None,
                "language": "en",
            },
        )


def backwards(apps, schema_editor):
    Taxonomy = apps.get_model("resources", "Taxonomy")
    TaxonomyTerm = apps.get_model("resources", "TaxonomyTerm")
    Attribute = apps.get_model("resources", "Attribute")
    terms = TaxonomyTerm.objects.filter(taxonomy__name=TAXONOMY)
    Attribute.objects.filter(taxonomy_term__in=terms).delete()
    terms.exclude(parent=None).delete()
    terms.delete()
    Taxonomy.objects.filter(name=TAXONOMY).delete()


class Migration(migrations.Migration):
    dependencies = [("resources", "0004_location_address_fields_removed")]

    operations = [migrations.RunPython(forwards, backwards)]
