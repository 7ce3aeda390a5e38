"""Activities of the SOC processes: recording alerts and incidents, paging, containment, polling, summaries and
the incident's ticket."""
