"""Models of the chat channel."""
