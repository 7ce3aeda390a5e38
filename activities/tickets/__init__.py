"""Activities of the ticket process: ticket rows and events, SLA records and re-pins, escalation notifications."""
