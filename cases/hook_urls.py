"""The SMS provider's webhooks, mounted at /hooks/sms/ (acs/urls.py; cases/hooks.py).

No trailing slash: these are the exact URLs given to the provider and signed by it.
"""

from django.urls import path

from cases import hooks

app_name = "sms_hooks"

urlpatterns = [
    path("status", hooks.sms_status, name="status"),
    path("inbound", hooks.sms_inbound, name="inbound"),
]
