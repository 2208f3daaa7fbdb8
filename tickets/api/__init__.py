"""Ticket API resources (routes in :mod:`tickets.api.urls`)."""
