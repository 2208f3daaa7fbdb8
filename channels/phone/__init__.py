"""Phone: contacts' personal codes, agents logging calls, the verification API."""
