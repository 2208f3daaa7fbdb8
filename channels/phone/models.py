"""Models of the phone channel: a contact's personal code, which a caller gives an agent (seed
000: phone support for Ultimate customers, "caller gives a personal code")."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Membership
from helpdesk.tenancy import TenantOwned

CODE_LENGTH = 8


def code_digest(tenant_id: int, code: str) -> str:
    """What a code is looked up by. The lookup goes through a digest so that the time an index
    search takes says nothing about how close a guess was; the found row's plain code is then
    compared in constant time (:func:`channels.phone.selectors.phone_caller_for_code`)."""
    return hashlib.sha256(f"{tenant_id}:{code}".encode()).hexdigest()


class PhoneCode(TenantOwned):
    """A contact's personal code. Stored plainly because the portal shows it to its contact;
    one per contact, unique within the tenant (through its digest)."""

    # A ForeignKey with a unique constraint rather than a OneToOneField: the tenancy checks
    # (check_same_tenant and the composite foreign key) cover many-to-one fields.
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="phone_codes")
    code = models.CharField(_("personal code"), max_length=CODE_LENGTH)
    code_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    regenerated_at = models.DateTimeField(null=True, blank=True)
    regenerated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["membership"], name="phone_code_one_per_contact"),
            models.UniqueConstraint(
                fields=["tenant", "code_digest"], name="phone_code_unique_in_tenant"
            ),
        ]

    def __str__(self) -> str:
        return f"phone code of membership {self.membership_id}"
