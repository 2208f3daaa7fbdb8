"""The core domain every app shares: tenants, users, memberships, organizations, API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .tenancy import TenantOwned

# Host labels that can never be a tenant: they would shadow infrastructure names.
RESERVED_SLUGS = frozenset({"www", "api", "admin", "static", "media", "mail", "app", "localhost"})

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
    _("Use lowercase letters, digits and hyphens (a valid host label)."),
)
color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #1f6feb."))


class Tenant(models.Model):
    """A support provider running its desk here; reached at ``{slug}.{base domain}``."""

    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    brand_color = models.CharField(max_length=7, default="#1f6feb", validators=[color_validator])
    logo_url = models.URLField(blank=True)
    support_email = models.EmailField(blank=True)
    ticket_prefix = models.CharField(
        max_length=10,
        default="T",
        validators=[RegexValidator(r"^[A-Z][A-Z0-9]{0,9}$", _("Use capital letters and digits."))],
        help_text=_("Ticket references read PREFIX-NUMBER, e.g. OR-1042."),
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    allow_signup = models.BooleanField(
        default=True, help_text=_("Customers may sign up on the portal (as pending contacts).")
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Renewed with every change to the tenant's configuration (helpdesk.configcache).
    config_stamp = models.UUIDField(default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A full save of a tenant read earlier (the operators' admin, a branding form) must not
        # write back the configuration stamp it read: only configcache.config_changed renews it.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.attname != "config_stamp"
            ]
        super().save(*args, **kwargs)


def email_key(email: str) -> str:
    """How ``User.email`` is stored (trimmed, lower case): compare with ``email=email_key(x)``,
    which the unique index answers, rather than ``email__iexact`` (``UPPER(email)``, which no
    index answers: a scan of every user of every tenant)."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=email_key(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    """A global identity (one per email address); a Membership gives it a role in a tenant."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text=_("Operator of the installation (Django admin).")
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = email_key(self.email)
        super().save(*args, **kwargs)


class Organization(TenantOwned):
    """A customer company of a tenant."""

    name = models.CharField(max_length=200)
    domains = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Email domains whose sign-ups join this organization as pending contacts."),
    )
    account_executive_email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="organization_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TenantOwned):
    """A user's role in one tenant. Customers are contacts of one organization."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        AGENT = "agent", _("Agent")
        CUSTOMER = "customer", _("Customer")

    class Tier(models.TextChoices):
        # The seeds' hierarchy, lowest first; escalation chains walk it upwards.
        AGENT = "agent", _("Agent")
        TEAM_LEAD = "team_lead", _("Team lead")
        MANAGER = "manager", _("Manager")
        PRINCIPAL = "principal", _("Principal")

    class ContactRole(models.TextChoices):
        OWNER = "owner", _("Owner")
        AUTHORIZED = "authorized", _("Authorized")
        PENDING = "pending", _("Pending verification")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.RESTRICT, related_name="contacts"
    )
    contact_role = models.CharField(max_length=16, choices=ContactRole.choices, blank=True)
    is_active = models.BooleanField(default=True)
    # Presence for routing: an agent away (holiday, off shift) gets no automatic assignments.
    is_available = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_one_per_tenant"),
            # Customers carry a contact role; a customer without an organization can only be a
            # pending sign-up. Staff carry no organization and no contact role.
            models.CheckConstraint(
                condition=(
                    models.Q(role="customer", contact_role="pending")
                    | models.Q(
                        role="customer",
                        contact_role__in=["owner", "authorized"],
                        organization__isnull=False,
                    )
                    | (
                        models.Q(role__in=["admin", "agent"])
                        & models.Q(organization__isnull=True, contact_role="")
                    )
                ),
                name="membership_role_shape",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    role="agent", tier__in=["agent", "team_lead", "manager", "principal"]
                )
                | (~models.Q(role="agent") & models.Q(tier="")),
                name="membership_agent_tier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant_id} ({self.role})"

    @property
    def is_staff_member(self) -> bool:
        return self.role in (self.Role.ADMIN, self.Role.AGENT)

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_verified_contact(self) -> bool:
        return self.role == self.Role.CUSTOMER and self.contact_role in (
            self.ContactRole.OWNER,
            self.ContactRole.AUTHORIZED,
        )


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(TenantOwned):
    """An API token bound to one tenant and one member. Only the SHA-256 of the key is stored."""

    PREFIX = "hd_"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyRecord(TenantOwned):
    """One ``Idempotency-Key`` of one caller (a token, or a session's user) in one tenant, and the
    response it produced. The row is inserted before the request runs, in the same transaction:
    a concurrent request with the same key waits on the unique index and then replays the
    committed response (helpdesk.api.idempotency)."""

    principal = models.CharField(max_length=40, help_text=_("token:<id> or user:<id>"))
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of method, path, body."))
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "principal", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
