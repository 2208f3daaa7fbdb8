"""/profile/: a member sets their name and time zone; times on the desk follow the zone."""

from __future__ import annotations

import datetime as dt

from helpdesk.models import User
from tests.conftest import World
from tests.tickets.page_helpers import assert_csp_clean


def test_member_sets_name_and_zone(alpha: World) -> None:
    client = alpha.client(alpha.contact1)
    page = client.get("/profile/")
    assert page.status_code == 200
    assert_csp_clean(page.content.decode())
    response = client.post("/profile/", {"name": "Ada L.", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    user = User.objects.get(pk=alpha.contact1.user_id)
    assert (user.name, user.time_zone) == ("Ada L.", "Asia/Tokyo")
    # Back to automatic (the browser's zone).
    client.post("/profile/", {"name": "Ada L.", "time_zone": ""})
    user.refresh_from_db()
    assert user.time_zone == ""


def test_unknown_zone_is_a_form_error_and_keeps_the_input(alpha: World) -> None:
    client = alpha.client(alpha.agent)
    before = User.objects.get(pk=alpha.agent.user_id).time_zone
    response = client.post("/profile/", {"name": "Typed name", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Typed name" in body and "errorlist" in body
    assert User.objects.get(pk=alpha.agent.user_id).time_zone == before


def test_times_follow_the_profile_zone(alpha: World) -> None:
    from tests.tickets.page_helpers import file_ticket

    ticket = file_ticket(alpha, alpha.contact1, "Zone check")
    ticket.opened_at = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)
    ticket.save(update_fields=["opened_at"])
    client = alpha.client(alpha.contact1)
    client.post("/profile/", {"name": "", "time_zone": "Asia/Tokyo"})
    body = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "18:00" in body  # 09:00 UTC is 18:00 in Tokyo
    client.post("/profile/", {"name": "", "time_zone": "America/New_York"})
    body = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert "04:00" in body


def test_profile_needs_a_member_of_this_tenant(alpha: World, beta: World) -> None:
    response = alpha.client().get("/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
