"""Authentication that knows the tenant: only members log in on a tenant's host; only operators
(``is_staff``) on the bare base domain, where the Django admin lives."""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .middleware import SESSION_TENANT_KEY
from .models import Membership, User


class TenantAuthenticationBackend(AuthenticationBackend):
    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> User | None:
        if "username" in credentials and "email" not in credentials:
            # The Django admin's login form posts "username"; our username is the email.
            credentials["email"] = credentials["username"]
        user = super().authenticate(request, **credentials)
        if user is None or request is None:
            return user
        return user if may_log_in(request, user) else None


def may_log_in(request: HttpRequest, user: User) -> bool:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return bool(user.is_staff)
    return Membership.objects.for_tenant(tenant).filter(user=user, is_active=True).exists()


@receiver(user_logged_in)
def bind_session_to_tenant(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    # Login rotated the session key; from now on this session is valid on this host's tenant
    # only (MembershipMiddleware).
    tenant = getattr(request, "tenant", None)
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_TENANT_KEY] = tenant.pk if tenant is not None else None
