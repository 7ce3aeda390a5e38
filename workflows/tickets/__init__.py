"""The ticket process: `ticket-<id>` with its SLA clock and escalations, and the SLA re-pin batch."""
