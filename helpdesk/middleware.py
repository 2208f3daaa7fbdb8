"""Tenant resolution from the host, and membership enforcement for every request."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.template.loader import render_to_string

from . import configcache
from .models import Membership, Tenant
from .selectors import membership_for

SESSION_TENANT_KEY = "_helpdesk_tenant_id"


def tenant_slug_from_host(host: str, base_domain: str) -> str | None:
    """``acme.localhost:8000`` → ``acme``; the bare base domain → ``""``; a foreign host → None."""
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    hostname = hostname.lower().rstrip(".")
    if hostname == base_domain:
        return ""
    suffix = "." + base_domain
    if hostname.endswith(suffix):
        label = hostname[: -len(suffix)]
        if label and "." not in label:
            return label
    return None


class TenantMiddleware:
    """Sets ``request.tenant`` from the host. The bare base domain serves the public URL conf
    (landing page, operators' admin); an unknown host gets a plain 404 page. The rest of the
    request may read the tenant's configuration from memory (:mod:`helpdesk.configcache`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        slug = tenant_slug_from_host(request.get_host(), settings.HELPDESK_BASE_DOMAIN)
        tenant: Tenant | None = None
        if slug == "":
            request.urlconf = settings.PUBLIC_URLCONF
        elif slug is not None:
            tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None and slug != "":
            return HttpResponseNotFound(
                render_to_string("unknown_tenant.html", {"host": request.get_host()}),
            )
        request.tenant = tenant  # type: ignore[attr-defined]
        # The tenant was just read: its configuration may be served from memory (configcache).
        with configcache.armed(tenant):
            return self.get_response(request)


class MembershipMiddleware:
    """On a tenant host, a user counts as logged in only when the session was opened on this
    tenant's host and the user is an active member of the tenant. A session cookie of tenant A
    replayed on tenant B's host is therefore anonymous there (and A's session is left intact).

    Sets ``request.membership`` (None for anonymous users).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant: Tenant | None = getattr(request, "tenant", None)
        membership: Membership | None = None
        session = request.session
        if session.get(SESSION_KEY) is not None:
            # The bare base domain expects sessions opened there (bound tenant None).
            expected = tenant.pk if tenant is not None else None
            bound_here = SESSION_TENANT_KEY in session and session[SESSION_TENANT_KEY] == expected
            if bound_here and tenant is not None:
                membership = membership_for(tenant=tenant, user=request.user)  # type: ignore[arg-type]
            if not bound_here or (tenant is not None and membership is None):
                request.user = AnonymousUser()
        request.membership = membership  # type: ignore[attr-defined]
        return self.get_response(request)
