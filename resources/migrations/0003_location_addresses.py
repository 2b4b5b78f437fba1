"""Data: move the address columns of Location into HSDS Address rows (and back on reverse)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Location = apps.get_model("resources", "Location")
    Address = apps.get_model("resources", "Address")
    for location in Location.objects.exclude(address_1="").iterator():
        Address.objects.get_or_create(
            location=location,
            address_1=location.address_1,
            defaults={
                "city": location.city,
                "state_province": location.state_province,
                "postal_code": location.postal_code,
                "country": "US",
                "address_type": "physical",
            },
        )


def backwards(apps, schema_editor):
    Location = apps.get_model("resources", "Location")
    Address = apps.get_model("resources", "Address")
    for address in Address.objects.order_by("location_id", "id").iterator():
        Location.objects.filter(pk=address.location_id, address_1="").update(
            address_1=address.address_1,
            city=address.city,
            state_province=address.state_province,
            postal_code=address.postal_code,
        )


class Migration(migrations.Migration):
    dependencies = [("resources", "0002_directory_hsds")]

    operations = [migrations.RunPython(forwards, backwards)]
