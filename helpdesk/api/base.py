"""The base of every tenant API view: the tenant and the caller's membership, and a queryset that
is scoped before anything is fetched."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import QuerySet

from helpdesk.models import Membership, Tenant

from .permissions import request_membership


class TenantAPIMixin:
    request: Any
    model: ClassVar[type[models.Model]]

    @property
    def tenant(self) -> Tenant:
        return self.request.tenant

    @property
    def membership(self) -> Membership:
        membership = request_membership(self.request)
        assert membership is not None  # IsTenantMember ran first
        return membership

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request tenant
            return self.model._default_manager.none()
        return self.scoped_queryset()

    def scoped_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError
