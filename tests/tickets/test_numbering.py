"""References are per tenant, unique and increasing — also when many tickets are created at once
(real threads, real PostgreSQL transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.factories import TenantFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

THREADS = 8
PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gives_unique_increasing_numbers() -> None:
    tenant = TenantFactory(slug="busy", ticket_prefix="BZ")
    other = TenantFactory(slug="quiet", ticket_prefix="QT")
    user = UserFactory(email="requester@busy.test")
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    per_thread: dict[int, list[int]] = {}

    def work(index: int) -> None:
        numbers = []
        try:
            barrier.wait()
            for n in range(PER_THREAD):
                ticket = ticket_create(
                    tenant=tenant,
                    subject=f"Thread {index} ticket {n}",
                    requester=user,
                    requester_email=user.email,
                )
                numbers.append(ticket.number)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            per_thread[index] = numbers
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors

    numbers = sorted(Ticket.objects.filter(tenant=tenant).values_list("number", flat=True))
    assert numbers == list(range(1001, 1001 + THREADS * PER_THREAD))  # unique, no gaps
    for seen in per_thread.values():
        assert seen == sorted(seen)  # each creator sees its numbers increase
    # Creation order (ids) and numbers agree: a later commit never gets a smaller number.
    by_id = list(
        Ticket.objects.filter(tenant=tenant).order_by("id").values_list("number", flat=True)
    )
    assert by_id == sorted(by_id)
    # Another tenant counts on its own.
    first = ticket_create(tenant=other, subject="x", requester=user, requester_email=user.email)
    assert first.reference == "QT-1001"
