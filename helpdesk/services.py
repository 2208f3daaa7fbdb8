"""Writes of the core domain: tenants, people, organizations, contacts and API tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from .models import (
    RESERVED_SLUGS,
    ApiToken,
    Membership,
    Organization,
    Tenant,
    User,
    email_key,
    hash_token,
)


@transaction.atomic
def user_get_or_create(
    *, email: str, name: str = "", password: str | None = None, verified: bool = True
) -> User:
    """The global user for ``email`` (created if absent). A password is set only on creation.

    Users created by staff, commands or the API have a verified address: the provider vouches
    for it. Self sign-ups go through allauth's verification instead.
    """
    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email=email_key(email)).first()
    if user is None:
        user = User.objects.create_user(email, password, name=name)
    elif name and not user.name:
        user.name = name
        user.save(update_fields=["name"])
    if verified:
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
    return user


def tenant_validate_slug(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"'{slug}' is reserved."})
    Tenant._meta.get_field("slug").run_validators(slug)


@transaction.atomic
def tenant_create(
    *, slug: str, name: str, admin_email: str, admin_password: str | None = None
) -> Tenant:
    """Create a tenant with its first admin. Fails if the slug is taken or invalid."""
    tenant_validate_slug(slug)
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A tenant '{slug}' already exists."})
    tenant = Tenant.objects.create(slug=slug, name=name)
    user = user_get_or_create(email=admin_email, password=admin_password)
    membership_add(tenant=tenant, user=user, role=Membership.Role.ADMIN)
    return tenant


def membership_add(
    *,
    tenant: Tenant,
    user: User,
    role: str,
    tier: str = "",
    organization: Organization | None = None,
    contact_role: str = "",
) -> Membership:
    """Give ``user`` a role in ``tenant`` (updating an existing membership)."""
    if role == Membership.Role.AGENT and not tier:
        tier = Membership.Tier.AGENT
    if role == Membership.Role.CUSTOMER and not contact_role:
        contact_role = Membership.ContactRole.PENDING
    membership, _ = Membership.objects.for_tenant(tenant).update_or_create(
        tenant=tenant,
        user=user,
        defaults={
            "role": role,
            "tier": tier if role == Membership.Role.AGENT else "",
            "organization": organization if role == Membership.Role.CUSTOMER else None,
            "contact_role": contact_role if role == Membership.Role.CUSTOMER else "",
            "is_active": True,
        },
    )
    return membership


def organization_create(
    *,
    tenant: Tenant,
    name: str,
    domains: list[str] | None = None,
    account_executive_email: str = "",
) -> Organization:
    if Organization.objects.for_tenant(tenant).filter(name=name).exists():
        raise ValidationError({"name": "An organization with this name already exists."})
    return Organization.objects.create(
        tenant=tenant,
        name=name,
        domains=[d.lower().lstrip("@") for d in domains or []],
        account_executive_email=account_executive_email,
    )


@transaction.atomic
def contact_add(
    *,
    tenant: Tenant,
    organization: Organization,
    email: str,
    name: str = "",
    role: str = Membership.ContactRole.AUTHORIZED,
    password: str | None = None,
) -> Membership:
    """Create or link the user for ``email`` and make it a contact of ``organization``."""
    if organization.tenant_id != tenant.pk:
        raise ValidationError({"organization": "Unknown organization."})
    user = user_get_or_create(email=email, name=name, password=password)
    existing = Membership.objects.for_tenant(tenant).filter(user=user).first()
    if existing is not None and existing.role != Membership.Role.CUSTOMER:
        raise ValidationError({"email": "This person is already a member of staff here."})
    return membership_add(
        tenant=tenant,
        user=user,
        role=Membership.Role.CUSTOMER,
        organization=organization,
        contact_role=role,
    )


@transaction.atomic
def contact_update(
    *,
    tenant: Tenant,
    contact: Membership,
    name: str | None = None,
    role: str | None = None,
    organization: Organization | None = None,
) -> Membership:
    """Change a contact's name (on the global user), contact role or organization. Verifying
    a pending contact is ``contact_verify``'s (it releases held tickets)."""
    if contact.tenant_id != tenant.pk or contact.role != Membership.Role.CUSTOMER:
        raise ValidationError({"contact": "Unknown contact."})
    if organization is not None and organization.tenant_id != tenant.pk:
        raise ValidationError({"organization": "Unknown organization."})
    if name is not None and name.strip() != contact.user.name:
        contact.user.name = name.strip()
        contact.user.save(update_fields=["name"])
    fields = []
    if role is not None and role != contact.contact_role:
        if role not in Membership.ContactRole.values:
            raise ValidationError({"role": "Unknown contact role."})
        if (
            role != Membership.ContactRole.PENDING
            and (organization or contact.organization) is None
        ):
            raise ValidationError({"organization": "Choose the contact's organization."})
        contact.contact_role = role
        fields.append("contact_role")
    if organization is not None and organization.pk != contact.organization_id:
        contact.organization = organization
        fields.append("organization")
    if fields:
        contact.save(update_fields=fields)
    return contact


def contact_deactivate(*, tenant: Tenant, contact: Membership) -> Membership:
    """Remove a contact from the tenant: the membership is deactivated (tickets, messages and
    history stay; the person can no longer sign in here or use their tokens)."""
    if contact.tenant_id != tenant.pk or contact.role != Membership.Role.CUSTOMER:
        raise ValidationError({"contact": "Unknown contact."})
    if contact.is_active:
        contact.is_active = False
        contact.save(update_fields=["is_active"])
    return contact


def organization_update(
    *,
    organization: Organization,
    name: str | None = None,
    domains: list[str] | None = None,
    account_executive_email: str | None = None,
    notes: str | None = None,
) -> Organization:
    """Change what is given; the name stays unique within the tenant."""
    fields = []
    if name is not None and name.strip() != organization.name:
        name = name.strip()
        if not name:
            raise ValidationError({"name": "A name is required."})
        clash = Organization.objects.for_tenant(organization.tenant_id).filter(name=name)
        if clash.exclude(pk=organization.pk).exists():
            raise ValidationError({"name": "An organization with this name already exists."})
        organization.name = name
        fields.append("name")
    if domains is not None:
        organization.domains = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
        fields.append("domains")
    if account_executive_email is not None:
        organization.account_executive_email = account_executive_email.strip().lower()
        fields.append("account_executive_email")
    if notes is not None:
        organization.notes = notes
        fields.append("notes")
    if fields:
        organization.save(update_fields=fields)
    return organization


@dataclass(frozen=True)
class OrganizationDeleteImpact:
    """What deleting an organization would do (shown before, enforced by the service)."""

    tickets: int  # blocking: tickets are never deleted or left without their organization
    contracts: int  # deleted with it
    contacts: int  # kept, detached, pending

    @property
    def blocked(self) -> bool:
        return self.tickets > 0

    def refusal(self, organization: Organization) -> str:
        return ngettext(
            "%(name)s cannot be deleted: %(count)d ticket belongs to it, and tickets are never "
            "deleted or left without their organization.",
            "%(name)s cannot be deleted: %(count)d tickets belong to it, and tickets are never "
            "deleted or left without their organization.",
            self.tickets,
        ) % {"name": organization.name, "count": self.tickets}


def organization_delete_impact(*, organization: Organization) -> OrganizationDeleteImpact:
    """Count, within the organization's tenant, what :func:`organization_delete` would refuse
    for, delete and detach."""
    from sla.models import Contract  # sla and tickets depend on core, not back
    from tickets.models import Ticket

    tenant_id = organization.tenant_id
    return OrganizationDeleteImpact(
        tickets=Ticket.objects.for_tenant(tenant_id).filter(organization=organization).count(),
        contracts=Contract.objects.for_tenant(tenant_id).filter(organization=organization).count(),
        contacts=Membership.objects.for_tenant(tenant_id).filter(organization=organization).count(),
    )


@transaction.atomic
def organization_delete(*, organization: Organization) -> None:
    """Delete ``organization``; refuse (ValidationError naming the count) while any ticket
    belongs to it. Every foreign key to Organization is dealt with here, in one transaction:

    * tickets (RESTRICT): the refusal; nothing is changed;
    * contracts (CASCADE): deleted first, each through ``sla``'s ``contract_delete`` (its
      ``contract.changed`` webhook; no ticket is left to recompute);
    * contacts (``Membership.organization``, RESTRICT): kept, with their tokens, phone codes and
      history, but detached and pending (``membership_role_shape`` allows a customer without an
      organization only as pending): they see nothing until staff verify them into an
      organization again (``contact_verify``);
    * chat sessions (SET_NULL): kept, without an organization.

    The organization's row is locked first: contract writes lock it too (``sla`` serialises them
    per organization), and a ticket filed for it meanwhile waits for this transaction and then
    fails on its foreign key rather than being orphaned; an organization deleted meanwhile is
    left as it is (gone). Deleting it renews the tenant's configuration stamp
    (``helpdesk.configcache`` watches Organization).
    """
    from channels.chat.models import ChatSession  # channels depend on core, not back
    from sla.models import Contract
    from sla.services import contract_delete

    tenant_id = organization.tenant_id
    locked = (
        Organization.objects.for_tenant(tenant_id)
        .select_for_update()
        .filter(pk=organization.pk)
        .values_list("pk", flat=True)
        .first()
    )
    if locked is None:  # deleted meanwhile: nothing left to do
        return
    impact = organization_delete_impact(organization=organization)
    if impact.blocked:
        raise ValidationError(impact.refusal(organization), code="in_use")
    for contract in Contract.objects.for_tenant(tenant_id).filter(organization=organization):
        contract_delete(contract=contract)
    Membership.objects.for_tenant(tenant_id).filter(organization=organization).update(
        organization=None, contact_role=Membership.ContactRole.PENDING
    )
    ChatSession.objects.for_tenant(tenant_id).filter(organization=organization).update(
        organization=None
    )
    organization.delete()


def contact_signup(*, tenant: Tenant, user: User) -> Membership:
    """A self sign-up on the portal: a pending contact, of the organization owning the email
    domain if there is exactly one. What a pending contact sends is held, never dropped."""
    domain = user.email.rsplit("@", 1)[-1]
    orgs = [
        o
        for o in Organization.objects.for_tenant(tenant).only("id", "domains", "tenant_id")
        if domain in (o.domains or [])
    ]
    return membership_add(
        tenant=tenant,
        user=user,
        role=Membership.Role.CUSTOMER,
        organization=orgs[0] if len(orgs) == 1 else None,
        contact_role=Membership.ContactRole.PENDING,
    )


@transaction.atomic
def contact_verify(
    *,
    tenant: Tenant,
    contact: Membership,
    organization: Organization | None = None,
    role: str = Membership.ContactRole.AUTHORIZED,
) -> Membership:
    """Verify a pending contact (seed 003: by the organization's owner or staff) and release
    everything they sent while pending into the queue."""
    from tickets.services import tickets_release_held  # tickets depends on core, not back

    if contact.tenant_id != tenant.pk or contact.role != Membership.Role.CUSTOMER:
        raise ValidationError({"contact": "Unknown contact."})
    organization = organization or contact.organization
    if organization is None:
        raise ValidationError({"organization": "Choose the contact's organization."})
    if organization.tenant_id != tenant.pk:
        raise ValidationError({"organization": "Unknown organization."})
    if role not in (Membership.ContactRole.OWNER, Membership.ContactRole.AUTHORIZED):
        raise ValidationError({"role": "A verified contact is an owner or authorized."})
    contact.organization = organization
    contact.contact_role = role
    contact.save(update_fields=["organization", "contact_role"])
    tickets_release_held(tenant=tenant, contact=contact)
    return contact


def api_token_create(
    *,
    tenant: Tenant,
    membership: Membership,
    name: str = "API token",
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for ``membership``; returns the row and the key (shown once, never stored)."""
    if membership.tenant_id != tenant.pk:
        raise ValidationError({"membership": "Unknown member."})
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        tenant=tenant,
        membership=membership,
        name=name,
        key_prefix=key[:10],
        key_hash=hash_token(key),
        expires_at=expires_at,
    )
    return token, key


def api_token_touch(token: ApiToken) -> None:
    """Record last use, at most once a minute per token (no write on every request)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def api_token_revoke(*, tenant: Tenant, token: ApiToken) -> None:
    if token.tenant_id != tenant.pk:
        raise ValidationError({"token": "Unknown token."})
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


def api_token_rename(*, tenant: Tenant, token: ApiToken, name: str) -> ApiToken:
    """Rename ``token`` (of ``tenant``); the key and its hash never change."""
    if token.tenant_id != tenant.pk:
        raise ValidationError({"token": "Unknown token."})
    token.name = name
    token.save(update_fields=["name"])
    return token


def _storage_tree_delete(prefix: str) -> int:
    """Delete every stored file under ``prefix`` (a directory of the default storage), walking
    one directory at a time so that memory stays flat however many files there are."""
    from django.core.files.storage import default_storage

    removed = 0
    try:
        directories, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotImplementedError):
        return 0
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
        removed += 1
    for directory in directories:
        removed += _storage_tree_delete(f"{prefix}/{directory}")
    return removed


def tenant_delete(*, tenant: Tenant) -> None:
    """Delete a tenant and everything it owns: tickets and their logs, catalogs, calendars,
    contracts, memberships, tokens. Users stay (an email address may belong to other tenants).
    The tenant's stored files (attachments, branding) go after the commit.

    Every foreign key between a tenant's rows is CASCADE or RESTRICT (never PROTECT), so the one
    cascade from the tenant removes them all; the append-only event log lets this tenant's rows go
    (tickets.apps.allow_tenant_purge)."""
    tenant_id = tenant.pk
    with transaction.atomic():
        Tenant.objects.filter(pk=tenant_id).get().delete()

        def purge_files() -> None:
            for prefix in (f"attachments/{tenant_id}", f"branding/{tenant_id}"):
                _storage_tree_delete(prefix)

        transaction.on_commit(purge_files)
