"""/manage/teams/ and /manage/agents/: teams with members, skills, lead, strategy and routing
rules; inviting staff (password link by email); role, tier, availability and teams; the last
admin and yourself are never removed."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from console.people.services import staff_deactivate, staff_update
from helpdesk.models import Membership
from tests.conftest import World
from tests.factories import MembershipFactory, ProductAreaFactory, SeverityFactory, TeamFactory
from tickets.models import RoutingRule, Team, TeamMember


def html(response: object) -> str:
    return response.content.decode()


def members_of(team: Team) -> set[int]:
    return set(TeamMember.objects.filter(team=team).values_list("membership_id", flat=True))


# --- teams --------------------------------------------------------------------------------------


def test_team_create_with_members_skills_lead_and_strategy(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    billing = ProductAreaFactory(tenant=alpha.tenant, name="Billing")
    api = ProductAreaFactory(tenant=alpha.tenant, name="API")
    response = admin.post(
        "/manage/teams/new/",
        {
            "name": "Technical Support",
            "description": "Experts",
            "assignment_strategy": "least_loaded",
            "areas": [billing.pk, api.pk],
            "members": [alpha.admin.pk],
            "lead": alpha.agent.pk,
            "escalation_emails": "tech-leads@alpha.test\nOPS@alpha.test",
        },
    )
    team = Team.objects.get(tenant=alpha.tenant, name="Technical Support")
    assert response.status_code == 302 and response["Location"] == f"/manage/teams/{team.pk}/"
    assert team.assignment_strategy == "least_loaded"
    assert team.escalation_emails == ["tech-leads@alpha.test", "ops@alpha.test"]
    assert set(team.areas.values_list("pk", flat=True)) == {billing.pk, api.pk}
    # The lead joined the team and carries the team-lead tier escalation looks for.
    assert members_of(team) == {alpha.admin.pk, alpha.agent.pk}
    alpha.agent.refresh_from_db()
    assert alpha.agent.tier == "team_lead"
    listing = html(admin.get("/manage/teams/"))
    assert "Technical Support" in listing and "API, Billing" in listing

    # Edit: one area moves away, members replaced, strategy changed.
    response = admin.post(
        f"/manage/teams/{team.pk}/",
        {
            "name": "Technical Support",
            "assignment_strategy": "round_robin",
            "areas": [api.pk],
            "members": [alpha.lead.pk],
            "lead": "",
            "escalation_emails": "",
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    billing.refresh_from_db()
    assert team.assignment_strategy == "round_robin" and team.escalation_emails == []
    assert billing.team_id is None
    assert members_of(team) == {alpha.lead.pk}


def test_team_form_errors_keep_the_input(alpha: World, beta: World) -> None:
    TeamFactory(tenant=alpha.tenant, name="Billing")
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/teams/new/",
        {
            "name": "Billing",
            "description": "Kept description",
            "assignment_strategy": "manual",
            "escalation_emails": "ok@alpha.test, nope",
        },
    )
    assert response.status_code == 400
    body = html(response)
    assert "Not an email address: nope." in body and "Kept description" in body
    response = admin.post(
        "/manage/teams/new/",
        {"name": "Billing", "assignment_strategy": "manual", "description": "Again"},
    )
    assert response.status_code == 400
    assert "A team with this name already exists." in html(response)
    # A member of another tenant, or a customer, is not a choice.
    for bad in (beta.agent.pk, alpha.contact1.pk):
        response = admin.post(
            "/manage/teams/new/",
            {"name": "Fresh", "assignment_strategy": "manual", "members": [bad]},
        )
        assert response.status_code == 400 and "Select a valid choice" in html(response)
    assert not Team.objects.filter(name="Fresh").exists()


def test_routing_rules_round_trip(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    tech = TeamFactory(tenant=alpha.tenant, name="Technical Support")
    other = TeamFactory(tenant=alpha.tenant, name="Customer Support")
    sev1 = SeverityFactory(tenant=alpha.tenant, name="Severity 1")
    response = admin.post(
        f"/manage/teams/{tech.pk}/rules/new/",
        {
            "name": "Severity 1 to Technical Support only",
            "position": "1",
            "team": tech.pk,
            "severity": sev1.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get(tenant=alpha.tenant)
    assert (rule.team_id, rule.severity_id, rule.position, rule.is_active) == (
        tech.pk,
        sev1.pk,
        1,
        True,
    )
    page = html(admin.get(f"/manage/teams/{tech.pk}/"))
    assert "Severity 1 to Technical Support only" in page and "severity Severity 1" in page

    # Invalid: a negative position keeps the name typed.
    response = admin.post(
        f"/manage/teams/{tech.pk}/rules/new/",
        {"name": "Kept rule", "position": "-1", "team": tech.pk},
    )
    assert response.status_code == 400
    assert "Kept rule" in html(response)

    response = admin.post(
        f"/manage/teams/rules/{rule.pk}/",
        {"name": "Moved", "position": "3", "team": other.pk, "channel": "phone"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.team_id, rule.severity_id, rule.channel, rule.is_active) == (
        other.pk,
        None,
        "phone",
        False,
    )
    assert admin.post(f"/manage/teams/rules/{rule.pk}/delete/").status_code == 302
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()

    assert admin.post(f"/manage/teams/{tech.pk}/delete/").status_code == 302
    assert not Team.objects.filter(pk=tech.pk).exists()


def test_team_and_agent_pages_are_admin_only(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant)
    urls = [
        f"/manage/teams/{team.pk}/",
        f"/manage/teams/{team.pk}/delete/",
        f"/manage/agents/{alpha.agent.pk}/",
        f"/manage/agents/{alpha.agent.pk}/deactivate/",
    ]
    for member in (alpha.agent, alpha.owner1):
        client = alpha.client(member)
        for url in urls:
            assert client.get(url).status_code == 404
            assert client.post(url, {}).status_code == 404
    for url in urls:
        response = Client(HTTP_HOST=alpha.host).post(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Team.objects.filter(pk=team.pk).exists()
    alpha.agent.refresh_from_db()
    assert alpha.agent.is_active


# --- agents -------------------------------------------------------------------------------------


def test_invite_creates_the_agent_and_emails_a_password_link(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    response = admin.post(
        "/manage/agents/invite/",
        {"email": "New.Agent@Alpha.test", "name": "Nia", "role": "agent", "tier": "manager"},
        follow=True,
    )
    assert "new.agent@alpha.test was invited" in html(response)
    member = Membership.objects.get(tenant=alpha.tenant, user__email="new.agent@alpha.test")
    assert (member.role, member.tier, member.is_active) == ("agent", "manager", True)
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.agent@alpha.test"]
    link = re.search(r"http://alpha\.localhost/accounts/password/reset/key/\S+", message.body)
    assert link is not None, message.body

    # The link lets them choose a password and sign in on the tenant's host.
    client = Client(HTTP_HOST=alpha.host)
    form_page = client.get(link.group(0), follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(0)
    done = client.post(
        action, {"password1": "a long new password 42", "password2": "a long new password 42"}
    )
    assert done.status_code == 302
    fresh = Client(HTTP_HOST=alpha.host)
    login = fresh.post(
        "/accounts/login/",
        {"login": "new.agent@alpha.test", "password": "a long new password 42"},
    )
    assert login.status_code == 302
    assert fresh.get("/manage/agents/").status_code == 404  # an agent, not an admin


def test_invite_refuses_contacts_and_current_staff_and_keeps_input(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    for email, error in (
        (alpha.contact1.user.email, "This person is a customer contact here."),
        (alpha.agent.user.email, "This person is already a member of staff here."),
        ("broken", "Enter a valid email address."),
    ):
        response = admin.post(
            "/manage/agents/invite/",
            {"email": email, "name": "Kept Name", "role": "agent", "tier": "agent"},
        )
        assert response.status_code == 400
        assert error in html(response) and "Kept Name" in html(response)
    assert mail.outbox == []
    alpha.contact1.refresh_from_db()
    assert alpha.contact1.role == "customer"


def test_inviting_someone_with_an_account_reactivates_without_an_email(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    assert admin.post(f"/manage/agents/{alpha.lead.pk}/deactivate/").status_code == 302
    alpha.lead.refresh_from_db()
    assert not alpha.lead.is_active
    assert alpha.lead.user.email in html(admin.get("/manage/agents/"))  # the deactivated list
    response = admin.post(
        "/manage/agents/invite/",
        {"email": alpha.lead.user.email, "role": "admin", "tier": "agent"},
        follow=True,
    )
    assert "they sign in with their existing password" in html(response)
    alpha.lead.refresh_from_db()
    assert (alpha.lead.is_active, alpha.lead.role, alpha.lead.tier) == (True, "admin", "")
    assert mail.outbox == []


def test_agent_edit_tier_availability_teams_and_role(alpha: World, beta: World) -> None:
    admin = alpha.client(alpha.admin)
    team = TeamFactory(tenant=alpha.tenant, name="Tier 2")
    url = f"/manage/agents/{alpha.agent.pk}/"
    response = admin.post(
        url, {"role": "agent", "tier": "principal", "is_available": "", "teams": [team.pk]}
    )
    assert response.status_code == 302
    alpha.agent.refresh_from_db()
    assert (alpha.agent.tier, alpha.agent.is_available) == ("principal", False)
    assert members_of(team) == {alpha.agent.pk}
    listing = html(admin.get("/manage/agents/"))
    assert "Principal" in listing and "Tier 2" in listing and "away" in listing

    # Another tenant's team is not a choice; nothing changes.
    other = TeamFactory(tenant=beta.tenant)
    response = admin.post(url, {"role": "agent", "tier": "agent", "teams": [other.pk]})
    assert response.status_code == 400 and "Select a valid choice" in html(response)
    alpha.agent.refresh_from_db()
    assert alpha.agent.tier == "principal"

    # Promote to admin: the tier goes (admins carry none); demote back to agent.
    assert (
        admin.post(url, {"role": "admin", "tier": "manager", "is_available": "on"}).status_code
        == 302
    )
    alpha.agent.refresh_from_db()
    assert (alpha.agent.role, alpha.agent.tier, alpha.agent.is_available) == ("admin", "", True)
    assert admin.post(url, {"role": "agent", "tier": "manager"}).status_code == 302
    alpha.agent.refresh_from_db()
    assert (alpha.agent.role, alpha.agent.tier) == ("agent", "manager")


def test_you_cannot_remove_yourself_and_the_last_admin_stays(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    me = f"/manage/agents/{alpha.admin.pk}/"
    response = admin.post(me, {"role": "agent", "tier": "agent", "is_available": "on"})
    assert response.status_code == 400
    assert "You cannot remove your own admin role." in html(response)
    response = admin.post(f"/manage/agents/{alpha.admin.pk}/deactivate/")
    assert response.status_code == 400
    assert "You cannot deactivate yourself." in html(response)
    alpha.admin.refresh_from_db()
    assert (alpha.admin.role, alpha.admin.is_active) == ("admin", True)

    # The last admin cannot be demoted or deactivated by anyone (the services' own guard).
    with pytest.raises(ValidationError, match="last admin"):
        staff_update(tenant=alpha.tenant, member=alpha.admin, by=alpha.agent, role="agent")
    with pytest.raises(ValidationError, match="last admin"):
        staff_deactivate(tenant=alpha.tenant, member=alpha.admin, by=alpha.agent)
    alpha.admin.refresh_from_db()
    assert (alpha.admin.role, alpha.admin.is_active) == ("admin", True)

    # With a second admin, one admin can remove the other.
    second = MembershipFactory(tenant=alpha.tenant, role="admin", tier="")
    response = admin.post(f"/manage/agents/{second.pk}/deactivate/")
    assert response.status_code == 302
    second.refresh_from_db()
    assert not second.is_active
    # ...and then the remaining one is the last again.
    with pytest.raises(ValidationError, match="last admin"):
        staff_deactivate(tenant=alpha.tenant, member=alpha.admin, by=alpha.lead)


def test_deactivated_agent_leaves_teams_and_cannot_sign_in(alpha: World) -> None:
    team = TeamFactory(tenant=alpha.tenant)
    TeamMember.objects.create(tenant=alpha.tenant, team=team, membership=alpha.agent)
    agent_client = alpha.client(alpha.agent)
    assert agent_client.get("/agent/queue/").status_code == 200
    response = alpha.client(alpha.admin).post(f"/manage/agents/{alpha.agent.pk}/deactivate/")
    assert response.status_code == 302
    alpha.agent.refresh_from_db()
    assert (alpha.agent.is_active, alpha.agent.is_available) == (False, False)
    assert members_of(team) == set()
    # Their open session is no longer a member's.
    response = agent_client.get("/agent/queue/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # The edit page answers 404 for a deactivated member (bring them back by inviting).
    assert alpha.client(alpha.admin).get(f"/manage/agents/{alpha.agent.pk}/").status_code == 404


def test_agent_list_query_count_does_not_grow_with_staff(alpha: World) -> None:
    admin = alpha.client(alpha.admin)
    team = TeamFactory(tenant=alpha.tenant, name="Night shift")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get("/manage/agents/").status_code == 200
        return len(ctx)

    few = count()
    for n in range(10):
        member = MembershipFactory(tenant=alpha.tenant, role="agent", user__email=f"s{n}@a.test")
        TeamMember.objects.create(tenant=alpha.tenant, team=team, membership=member)
    assert count() == few
    assert "s9@a.test" in html(admin.get("/manage/agents/"))
