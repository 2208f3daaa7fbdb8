"""The tenant admin console at ``/manage/``: what a tenant admin configures.

One sub-package per area, each with its own ``urls.py``, views and templates under
``templates/console/<area>/``: ``catalogs`` (severities, priorities, types, impacts, product areas,
custom fields, canned responses, branding), ``service`` (calendars, packages and their SLA matrix,
escalation rules), ``people`` (organizations, contracts, contacts, teams, agents, webhooks).
Email addresses and the quarantine live with the email channel, phone codes with the phone channel;
the console links to them. Views only parse input and call the owning app's services.
"""
