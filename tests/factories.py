"""factory_boy factories for every model, in one module."""

from __future__ import annotations

import datetime as dt

import factory
from allauth.account.models import EmailAddress

from helpdesk.models import Membership, Organization, Tenant, User
from sla.models import BusinessCalendar, Contract, OpeningInterval, Severity, SupportPackage
from tickets.models import (
    BusinessImpact,
    CustomField,
    Priority,
    ProductArea,
    Team,
    Ticket,
    TicketType,
)

PASSWORD = "correct horse battery staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant{n}")
    name = factory.LazyAttribute(lambda o: o.slug.title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Organization {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = "agent"
    tier = factory.LazyAttribute(lambda o: "agent" if o.role == "agent" else "")


class ContactFactory(MembershipFactory):
    role = "customer"
    tier = ""
    organization = factory.SubFactory(OrganizationFactory, tenant=factory.SelfAttribute("..tenant"))
    contact_role = "authorized"


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    tenant = factory.SubFactory(TenantFactory)
    number = factory.Sequence(lambda n: 2000 + n)
    subject = factory.Sequence(lambda n: f"Ticket subject {n}")
    requester_email = factory.LazyAttribute(
        lambda o: o.requester.email if o.requester else "x@example.test"
    )
    requester = None
    organization = None


# --- SLA engine -------------------------------------------------------------------------------


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    """A calendar with Monday-Friday 09:00-17:00 hours (pass ``hours=[(wd, start, end)]`` in
    minutes to change them)."""

    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/London"

    @factory.post_generation
    def hours(
        self, create: bool, extracted: list[tuple[int, int, int]] | None, **kwargs: object
    ) -> None:
        if not create:
            return
        rows = extracted if extracted is not None else [(d, 9 * 60, 17 * 60) for d in range(5)]
        for weekday, start, end in rows:
            OpeningInterval.objects.create(
                tenant=self.tenant,
                calendar=self,
                weekday=weekday,
                start_minute=start,
                end_minute=end,
            )


class SeverityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Severity

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"sev{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())
    rank = factory.Sequence(lambda n: n + 1)


class SupportPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportPackage

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Package {n}")
    channels = factory.LazyFunction(lambda: ["web", "email"])


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    tenant = factory.SubFactory(TenantFactory)
    organization = factory.SubFactory(OrganizationFactory, tenant=factory.SelfAttribute("..tenant"))
    package = factory.SubFactory(SupportPackageFactory, tenant=factory.SelfAttribute("..tenant"))
    starts_on = factory.LazyFunction(lambda: dt.date(2020, 1, 1))
    ends_on = None


# --- ticket catalogs, teams and conversation ----------------------------------------------------


class PriorityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Priority

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"p{n}")
    name = factory.LazyAttribute(lambda o: o.key.upper())
    rank = factory.Sequence(lambda n: n + 1)


class TicketTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketType

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"type{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())


class BusinessImpactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessImpact

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"impact{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())
    rank = factory.Sequence(lambda n: n + 1)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class ProductAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductArea

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"area{n}")
    name = factory.LazyAttribute(lambda o: o.key.title())
    team = None


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    tenant = factory.SubFactory(TenantFactory)
    key = factory.Sequence(lambda n: f"field{n}")
    label = factory.LazyAttribute(lambda o: o.key.title())
    kind = "text"
