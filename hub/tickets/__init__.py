"""Tickets in the database where the API and the activities both write them: the opening (row, number, SLA clock)
and its hand-over to the ticket's workflow."""
