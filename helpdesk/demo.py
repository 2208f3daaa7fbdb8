"""The demo tenants that `make run` serves: the five seed providers, each with an admin, two
agents and two customer organizations with contacts. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from sla.policies import available_templates, load_demo_contracts, load_policy_template

from .models import Membership, Organization, Tenant, User
from .services import contact_add, membership_add, organization_create, user_get_or_create

DEMO_PASSWORD = "helpdesk-demo"


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    prefix: str
    organizations: tuple[str, str]


DEMO_TENANTS = (
    DemoTenant("officernd", "OfficeRnD", "OR", ("Northwind Workspaces", "Harbor Cowork")),
    DemoTenant("apiplatform", "API Platform", "AP", ("Globex Payments", "Initech Logistics")),
    DemoTenant("webagency", "Web Agency", "WA", ("Bakery Bloom", "Riverside Dental")),
    DemoTenant("otcommerce", "OT Commerce", "OT", ("Taiga Trade", "Volga Goods")),
    DemoTenant("spaceos", "spaceOS", "SO", ("Skyline Offices", "Canal Campus")),
)


def demo_logins(spec: DemoTenant) -> dict[str, str]:
    return {
        "admin": f"admin@{spec.slug}.example",
        "agent": f"agent@{spec.slug}.example",
        "lead": f"lead@{spec.slug}.example",
        "owner": f"owner@customer1.{spec.slug}.example",
        "contact": f"contact@customer1.{spec.slug}.example",
        "owner2": f"owner@customer2.{spec.slug}.example",
        "contact2": f"contact@customer2.{spec.slug}.example",
    }


@transaction.atomic
def demo_load_tenant(spec: DemoTenant) -> Tenant:
    tenant, created = Tenant.objects.get_or_create(
        slug=spec.slug, defaults={"name": spec.name, "ticket_prefix": spec.prefix}
    )
    logins = demo_logins(spec)

    def person(email: str, name: str) -> User:
        return user_get_or_create(email=email, name=name, password=DEMO_PASSWORD)

    membership_add(tenant=tenant, user=person(logins["admin"], "Ada Admin"), role="admin")
    membership_add(
        tenant=tenant,
        user=person(logins["agent"], "Alex Agent"),
        role="agent",
        tier=Membership.Tier.AGENT,
    )
    membership_add(
        tenant=tenant,
        user=person(logins["lead"], "Lee Lead"),
        role="agent",
        tier=Membership.Tier.TEAM_LEAD,
    )
    organizations = []
    for index, org_name in enumerate(spec.organizations, start=1):
        org = Organization.objects.for_tenant(tenant).filter(name=org_name).first()
        if org is None:
            org = organization_create(
                tenant=tenant,
                name=org_name,
                domains=[f"customer{index}.{spec.slug}.example"],
                account_executive_email=f"ae@{spec.slug}.example",
            )
        organizations.append(org)
        suffix = "" if index == 1 else str(index)
        for key, role, name in (
            ("owner", Membership.ContactRole.OWNER, "Olive Owner"),
            ("contact", Membership.ContactRole.AUTHORIZED, "Casey Contact"),
        ):
            contact_add(
                tenant=tenant,
                organization=org,
                email=logins[key + suffix],
                name=f"{name} {index}",
                role=role,
                password=DEMO_PASSWORD,
            )
    if created and spec.slug in available_templates():
        load_policy_template(tenant=tenant, template=spec.slug)
        load_demo_contracts(tenant=tenant, template=spec.slug, organizations=organizations)
        _demo_team_members(tenant, [logins["agent"], logins["lead"]])
    _demo_help_content(tenant, author=User.objects.get(email=logins["admin"]))
    _demo_mailbox(tenant)
    return tenant


def _demo_mailbox(tenant: Tenant) -> None:
    """The desk's address (the From of its mail; mail piped to it opens tickets), once."""
    from django.conf import settings

    from channels.email.mailboxes import mailbox_save
    from channels.email.models import Mailbox

    if not Mailbox.objects.for_tenant(tenant).exists():
        mailbox_save(
            tenant=tenant,
            address=f"support@{tenant.slug}.{settings.HELPDESK_BASE_DOMAIN}",
            display_name=f"{tenant.name} Support",
            is_default=True,
        )


def _demo_team_members(tenant: Tenant, emails: list[str]) -> None:
    """The template's teams (tickets.catalog_templates) get the demo agents as members."""
    from tickets.models import Team
    from tickets.services import team_members_set

    staff = list(Membership.objects.for_tenant(tenant).filter(user__email__in=emails))
    for team in Team.objects.for_tenant(tenant):
        team_members_set(team=team, members=staff)


DEMO_ARTICLES = (
    # (category, title, visibility, Markdown body)
    (
        "Your account",
        "Reset your password",
        "public",
        "1. Open the login page and choose **Forgot your password?**\n"
        "2. Enter the email address you sign in with.\n"
        "3. Follow the link in the email within an hour.\n\n"
        "No email after five minutes? Check your spam folder, then file a ticket.",
    ),
    (
        "Your account",
        "Invite a colleague to the support portal",
        "public",
        "Colleagues whose email address uses your organization's domain can sign up at the "
        "portal and are verified by your organization's owner or by our team.\n\n"
        "You can also copy a colleague on any ticket: add their address under "
        "**Copy others (CC)**.",
    ),
    (
        "Working with support",
        "Choosing the right severity",
        "public",
        "Pick the level that describes the impact **right now**: the highest levels are for "
        "outages without a workaround. Each level lists what it means on the ticket form, and "
        "it sets how fast we answer under your support package.",
    ),
    (
        "Working with support",
        "Export your data to CSV",
        "public",
        "Open **Settings → Data**, choose the records to export and press **Export CSV**. "
        "Large exports arrive by email as a download link that works for 24 hours.",
    ),
    (
        "Internal",
        "Escalating to engineering",
        "internal",
        "Before escalating, add an internal note with the steps to reproduce, the customer's "
        "account and the time it happened (with the time zone). Then assign the ticket to the "
        "Technical Support team.",
    ),
)

DEMO_CANNED_RESPONSES = (
    (
        "Acknowledge and investigating",
        "Thank you for reporting this. We are looking into it now and will update you "
        "here as soon as we know more.",
    ),
    (
        "Need more information",
        "To help us reproduce this, could you tell us:\n\n"
        "- the exact steps you took,\n- what you expected and what happened instead,\n"
        "- a screenshot or the error message, if there is one.",
    ),
    (
        "Solved: please confirm",
        "We believe this is fixed now. Could you confirm it works for you? If we do not "
        "hear back, the ticket closes automatically.",
    ),
)


def _demo_help_content(tenant: Tenant, *, author: User) -> None:
    """A few published knowledge base articles (one internal) and canned responses, so that
    the portal's suggestions and the agents' pickers have something to show. Adds what is
    missing, by title; never changes what an admin edited."""
    from kb.models import Article, Category
    from kb.services import article_create, category_create
    from tickets.models import CannedResponse
    from tickets.services import canned_response_create

    articles = Article.objects.for_tenant(tenant)
    for position, (category_name, title, visibility, body) in enumerate(DEMO_ARTICLES):
        if articles.filter(title=title).exists():
            continue
        category = Category.objects.for_tenant(tenant).filter(name=category_name).first()
        if category is None:
            category = category_create(tenant=tenant, name=category_name, position=position)
        article_create(
            tenant=tenant,
            author=author,
            title=title,
            body_markdown=body,
            category=category,
            visibility=visibility,
            status=Article.Status.PUBLISHED,
        )
    canned = CannedResponse.objects.for_tenant(tenant)
    for title, body in DEMO_CANNED_RESPONSES:
        if not canned.filter(title__iexact=title).exists():
            canned_response_create(tenant=tenant, title=title, body=body, created_by=author)
