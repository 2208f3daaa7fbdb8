"""Deny by default: every API view needs a member of the host's tenant; roles narrow further."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from helpdesk.models import Membership


def request_membership(request: Request) -> Membership | None:
    return getattr(request._request, "membership", None)


class IsTenantMember(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        membership = request_membership(request)
        return (
            getattr(request, "tenant", None) is not None
            and membership is not None
            and membership.tenant_id == request.tenant.pk  # type: ignore[attr-defined]
        )


class IsStaffMember(IsTenantMember):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        membership = request_membership(request)
        return membership is not None and membership.is_staff_member


class IsTenantAdmin(IsTenantMember):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        membership = request_membership(request)
        return membership is not None and membership.is_admin
