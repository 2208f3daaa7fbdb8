"""``POST /api/v1/phone/verify/``: a telephony integration (or an agent's tool) checks a caller's
personal code. Staff only; throttled per caller and per tenant against guessing."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from helpdesk.api.permissions import IsStaffMember
from helpdesk.api.throttling import TokenRateThrottle

from .models import CODE_LENGTH
from .selectors import phone_caller_for_code
from .throttling import PhoneVerifyCallerThrottle, PhoneVerifyTenantThrottle


class VerifyInput(serializers.Serializer):
    code = serializers.CharField(
        max_length=32, help_text=f"The caller's personal code ({CODE_LENGTH} digits)."
    )


class VerifyOutput(serializers.Serializer):
    organization = serializers.IntegerField(allow_null=True)
    organization_name = serializers.CharField(allow_null=True)
    contact = serializers.IntegerField()
    contact_email = serializers.EmailField()
    contact_name = serializers.CharField()
    package = serializers.IntegerField(allow_null=True)
    package_name = serializers.CharField(allow_null=True)
    entitled = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why the contact is not entitled (empty when it is).")


class PhoneVerifyView(APIView):
    """Who a personal code belongs to, and whether their package includes phone support.

    An unknown code (or another tenant's) answers 404. Each POST counts against two limits, per
    caller and per tenant (settings ``PHONE_VERIFY_RATE``, ``PHONE_VERIFY_TENANT_RATE``; by
    default 10/min and 60/min); past them, 429 with Retry-After. A GET describes the check (the
    number of digits an IVR should collect) and counts against neither."""

    permission_classes = [IsStaffMember]

    def get_throttles(self) -> list[BaseThrottle]:
        throttles: list[BaseThrottle] = [TokenRateThrottle()]
        if self.request.method == "POST":
            throttles += [PhoneVerifyCallerThrottle(), PhoneVerifyTenantThrottle()]
        return throttles

    @extend_schema(
        responses=inline_serializer(
            "PhoneVerifyDescription",
            {"code_length": serializers.IntegerField(), "code_format": serializers.CharField()},
        )
    )
    def get(self, request: Request) -> Response:
        return Response({"code_length": CODE_LENGTH, "code_format": "digits"})

    @extend_schema(
        request=VerifyInput,
        responses={
            200: VerifyOutput,
            404: OpenApiResponse(description="Unknown code."),
            429: OpenApiResponse(description="Too many attempts; see Retry-After."),
        },
    )
    def post(self, request: Request) -> Response:
        data = VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        caller = phone_caller_for_code(tenant=request.tenant, code=data.validated_data["code"])  # type: ignore[attr-defined]
        if caller is None:
            raise NotFound("Unknown code.")
        contact, entitlement = caller.contact, caller.entitlement
        body: dict[str, Any] = {
            "organization": entitlement.organization.pk if entitlement.organization else None,
            "organization_name": entitlement.organization.name
            if entitlement.organization
            else None,
            "contact": contact.pk,
            "contact_email": contact.user.email,
            "contact_name": contact.user.name,
            "package": entitlement.package.pk if entitlement.package else None,
            "package_name": entitlement.package.name if entitlement.package else None,
            "entitled": entitlement.entitled,
            "reason": str(entitlement.reason),
        }
        return Response(VerifyOutput(body).data)
