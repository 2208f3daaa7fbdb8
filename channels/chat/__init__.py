"""Live chat: the portal widget, the embeddable script, the agents' console; a transcript becomes a
ticket (channel chat)."""
