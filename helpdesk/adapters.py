"""django-allauth adapters: sign-up is per tenant and creates a pending contact."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest
from django.shortcuts import render

from .auth import may_log_in
from .models import Membership, User


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        tenant = getattr(request, "tenant", None)
        return bool(tenant is not None and tenant.allow_signup)

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        from .services import contact_signup

        user = super().save_user(request, user, form, commit=commit)
        tenant = getattr(request, "tenant", None)
        if commit and tenant is not None:
            contact_signup(tenant=tenant, user=user)
        return user

    def pre_login(self, request: HttpRequest, user: User, **kwargs: Any) -> Any:
        # Covers every allauth login path (password, email code, sign-up, verification link).
        if not may_log_in(request, user):
            return render(request, "account/no_access.html", status=403)
        return super().pre_login(request, user, **kwargs)


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_label(self, user: Any) -> str:
        return str(user.email)

    def get_totp_issuer(self) -> str:
        return "Helpdesk"


def can_use_mfa(membership: Membership | None) -> bool:
    """TOTP is offered to agents and admins (customers sign in with a password or email code)."""
    return membership is not None and membership.is_staff_member
