from django.contrib import admin

from cases.models import Call, Resident


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("incident_number", "call_type", "source", "priority", "status", "received_at")
    list_filter = ("status", "source", "priority")
    search_fields = ("=incident_number",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    filter_horizontal = ("units",)


@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ("__str__", "preferred_language", "dob_quality", "created_at")
    list_filter = ("preferred_language",)
    show_full_result_count = False
