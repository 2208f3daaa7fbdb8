"""Who wrote an inbound message, as the tenant knows them, and which tickets they may write to.

The threading rule (issue #7): a message joins an existing ticket only when its sender is the
ticket's requester, one of its CCs, a member of staff, or an owner or authorized contact of the
ticket's organization. Everyone else (a stranger quoting "[OR-1042]", a forward of someone
else's ticket) opens a ticket of their own, so nobody can write into a conversation they were
never part of by knowing its reference or Message-ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from helpdesk.models import Membership, Organization, Tenant, User, email_key
from tickets.models import Ticket

from .models import Mailbox


@dataclass(frozen=True)
class Sender:
    """The From address and, when the tenant knows it, the user and membership behind it."""

    email: str
    name: str
    user: User | None
    membership: Membership | None

    @property
    def is_staff(self) -> bool:
        m = self.membership
        return m is not None and m.is_active and m.is_staff_member

    @property
    def is_inactive_member(self) -> bool:
        return self.membership is not None and not self.membership.is_active


def sender_resolve(*, tenant: Tenant, email: str, name: str = "") -> Sender:
    """The sender of ``email`` (lower-cased addr-spec) within ``tenant``."""
    user = User.objects.filter(email=email_key(email)).first()
    membership = None
    if user is not None:
        membership = (
            Membership.objects.for_tenant(tenant)
            .filter(user=user)
            .select_related("organization")
            .first()
        )
    return Sender(email=email, name=name, user=user, membership=membership)


def sender_may_write(*, sender: Sender, ticket: Ticket) -> bool:
    """True when ``sender`` may add to ``ticket`` by email (see the module docstring)."""
    email = sender.email.lower()
    if email == (ticket.requester_email or "").lower():
        return True
    if sender.user is not None and ticket.requester_id == sender.user.pk:
        return True
    if email in {c.lower() for c in ticket.cc or []}:
        return True
    membership = sender.membership
    if membership is None or not membership.is_active:
        return False
    if membership.is_staff_member:
        return True
    return (
        membership.is_verified_contact
        and ticket.organization_id is not None
        and membership.organization_id == ticket.organization_id
    )


def own_domains() -> set[str]:
    """Domains of this installation's own mail (Message-IDs and From): the base domain, the
    default From's domain and ``HELPDESK_EMAIL_OWN_DOMAINS``. Mail from them that carries one
    of their Message-IDs is our own mail coming back (a loop)."""
    domains = {str(getattr(settings, "HELPDESK_BASE_DOMAIN", "") or "")}
    default_from = str(getattr(settings, "DEFAULT_FROM_EMAIL", "") or "")
    domains.add(default_from.rpartition("@")[2].strip("> ").lower())
    domains.update(getattr(settings, "HELPDESK_EMAIL_OWN_DOMAINS", ()) or ())
    return {d.lower() for d in domains if d}


def own_addresses(*, tenant: Tenant) -> set[str]:
    """The tenant's own addresses (mailboxes, their Reply-To, the support address): never a
    CC of a ticket, or every reply would be mailed back into the desk."""
    addresses: set[str] = set()
    for address, reply_to in Mailbox.objects.for_tenant(tenant).values_list("address", "reply_to"):
        addresses.update(a.lower() for a in (address, reply_to) if a)
    if tenant.support_email:
        addresses.add(tenant.support_email.lower())
    default_from = str(getattr(settings, "DEFAULT_FROM_EMAIL", "") or "")
    if "@" in default_from:
        addresses.add(default_from.rpartition("<")[2].strip("> ").lower())
    return addresses


def is_own_address(address: str, *, addresses: set[str], domains: set[str]) -> bool:
    address = address.lower()
    if address in addresses:
        return True
    domain = address.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def mailbox_for(*, tenant: Tenant, recipients: Iterable[str]) -> Mailbox | None:
    """The tenant's mailbox a message was addressed to (first match in To, then Cc order)."""
    wanted = [r.lower() for r in recipients]
    if not wanted:
        return None
    found = {m.address.lower(): m for m in Mailbox.objects.for_tenant(tenant).all()}
    for address in wanted:
        if address in found:
            return found[address]
    return None


def organization_by_domain(*, tenant: Tenant, email: str) -> Organization | None:
    """The one organization of the tenant owning ``email``'s domain, if exactly one does."""
    domain = email.rpartition("@")[2].lower()
    orgs = [
        o
        for o in Organization.objects.for_tenant(tenant).only("id", "domains", "tenant_id")
        if domain in (o.domains or [])
    ]
    return orgs[0] if len(orgs) == 1 else None
