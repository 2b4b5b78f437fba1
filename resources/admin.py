from django.contrib import admin

from resources.models import Location, Organization, Service, ServiceAtLocation


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ("name", "status")
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "website")
    search_fields = ("name",)
    inlines = [ServiceInline]


class ServiceAtLocationInline(admin.TabularInline):
    model = ServiceAtLocation
    extra = 0
    autocomplete_fields = ("location",)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "status")
    list_filter = ("status",)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    inlines = [ServiceAtLocationInline]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "city", "organization")
    list_select_related = ("organization",)
    search_fields = ("name", "address_1")
