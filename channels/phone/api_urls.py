"""/api/v1/ routes of the phone channel (included from helpdesk.api.urls)."""

from django.urls import path

from .api import PhoneVerifyView

urlpatterns = [path("phone/verify/", PhoneVerifyView.as_view(), name="api-phone-verify")]
