"""The email channel. Inbound: ``channels.email.parsing.parse_message`` turns raw RFC 822 bytes
into one ``InboundMessage``; it is pure (no database, no Django) so every delivery path (pipe,
IMAP poll, provider webhook) shares it."""
