"""The SLA engine's REST resources: calendars, severities, packages, contracts, SLA policy."""
