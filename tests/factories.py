"""factory_boy factories for every model, in one module."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from helpdesk.models import Membership, Organization, Tenant, User
from tickets.models import Ticket

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
