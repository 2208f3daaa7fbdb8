"""REST API v1 plumbing shared by every app: auth, permissions, errors, pagination."""
