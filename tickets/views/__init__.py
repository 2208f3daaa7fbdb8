"""Pages of the customer portal (``portal``) and the agent workspace (``agent_queue``,
``agent_ticket``), server-rendered and enhanced with htmx."""
