"""Console pages of the people area (included from console.urls under /manage/): organizations
with their contracts and contacts, contacts, teams and routing rules, agents, webhooks, API
tokens. Every page with a kwarg answers GET (a form or a confirmation) and acts on POST."""

from django.urls import URLPattern, path

from .views import agents, contacts, organizations, teams, tokens, webhooks

urlpatterns: list[URLPattern] = [
    # organizations, their contracts and contacts
    path("organizations/", organizations.organization_list, name="console-orgs"),
    path("organizations/new/", organizations.organization_new, name="console-org-new"),
    path("organizations/<int:pk>/", organizations.organization_detail, name="console-org"),
    path("organizations/<int:pk>/edit/", organizations.organization_edit, name="console-org-edit"),
    path(
        "organizations/<int:pk>/delete/",
        organizations.organization_remove,
        name="console-org-delete",
    ),
    path(
        "organizations/<int:organization_pk>/contracts/new/",
        organizations.contract_new,
        name="console-org-contract-new",
    ),
    path(
        "organizations/contracts/<int:pk>/edit/",
        organizations.contract_edit,
        name="console-org-contract-edit",
    ),
    path(
        "organizations/contracts/<int:pk>/end/",
        organizations.contract_end,
        name="console-org-contract-end",
    ),
    path(
        "organizations/contracts/<int:pk>/delete/",
        organizations.contract_remove,
        name="console-org-contract-delete",
    ),
    path(
        "organizations/<int:organization_pk>/contacts/new/",
        organizations.organization_contact_new,
        name="console-org-contact-new",
    ),
    # contacts
    path("contacts/", contacts.contact_list, name="console-contacts"),
    path("contacts/<int:pk>/edit/", contacts.contact_edit, name="console-contact-edit"),
    path("contacts/<int:pk>/verify/", contacts.contact_verify_view, name="console-contact-verify"),
    path(
        "contacts/<int:pk>/deactivate/",
        contacts.contact_deactivate_view,
        name="console-contact-deactivate",
    ),
    # teams and routing rules
    path("teams/", teams.team_list, name="console-teams"),
    path("teams/new/", teams.team_new, name="console-team-new"),
    path("teams/<int:pk>/", teams.team_detail, name="console-team"),
    path("teams/<int:pk>/delete/", teams.team_remove, name="console-team-delete"),
    path("teams/<int:team_pk>/rules/new/", teams.rule_new, name="console-team-rule-new"),
    path("teams/rules/<int:pk>/", teams.rule_edit, name="console-team-rule"),
    path("teams/rules/<int:pk>/delete/", teams.rule_remove, name="console-team-rule-delete"),
    # agents
    path("agents/", agents.agent_list, name="console-agents"),
    path("agents/invite/", agents.agent_invite_view, name="console-agent-invite"),
    path("agents/<int:pk>/", agents.agent_edit, name="console-agent"),
    path("agents/<int:pk>/deactivate/", agents.agent_deactivate, name="console-agent-deactivate"),
    # webhooks
    path("webhooks/", webhooks.webhook_list, name="console-webhooks"),
    path("webhooks/new/", webhooks.webhook_new, name="console-webhook-new"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="console-webhook"),
    path("webhooks/<int:pk>/rotate/", webhooks.webhook_rotate, name="console-webhook-rotate"),
    path("webhooks/<int:pk>/enable/", webhooks.webhook_enable, name="console-webhook-enable"),
    path("webhooks/<int:pk>/delete/", webhooks.webhook_remove, name="console-webhook-delete"),
    # API tokens
    path("tokens/", tokens.token_list, name="console-tokens"),
    path("tokens/new/", tokens.token_new, name="console-token-new"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="console-token-revoke"),
]
