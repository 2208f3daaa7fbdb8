"""SLA reporting: achievement per metric, package, severity, team and period; breaches and
their reasons; first-response times; backlog ageing; volume by channel."""
