"""The resources admin, one module per topic: the directory (directory.py), referrals
(referrals.py), and partners' webhooks (webhooks.py). Each model is registered here, with its
admin, so the list of what the admin shows is in one place."""

from django.contrib import admin

from resources.admin.directory import (
    CapacityAdmin,
    LocationAdmin,
    OrganizationAdmin,
    ServiceAdmin,
    ServiceAtLocationAdmin,
    TaxonomyAdmin,
    TaxonomyTermAdmin,
)
from resources.admin.referrals import ReferralAdmin
from resources.admin.webhooks import WebhookDeliveryAdmin, WebhookEndpointAdmin
from resources.models import (
    Capacity,
    Location,
    Organization,
    Referral,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    WebhookDelivery,
    WebhookEndpoint,
)

admin.site.register(Organization, OrganizationAdmin)
admin.site.register(Service, ServiceAdmin)
admin.site.register(Location, LocationAdmin)
admin.site.register(ServiceAtLocation, ServiceAtLocationAdmin)
admin.site.register(Capacity, CapacityAdmin)
admin.site.register(Taxonomy, TaxonomyAdmin)
admin.site.register(TaxonomyTerm, TaxonomyTermAdmin)
admin.site.register(Referral, ReferralAdmin)
admin.site.register(WebhookEndpoint, WebhookEndpointAdmin)
admin.site.register(WebhookDelivery, WebhookDeliveryAdmin)
