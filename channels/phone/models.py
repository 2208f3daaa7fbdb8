"""Models of the phone channel."""
