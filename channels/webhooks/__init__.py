"""Outbound webhooks. The one entry point other apps call is :func:`webhook_emit`."""
