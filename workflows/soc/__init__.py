"""The SOC processes: `incident-<key>` (alerts of one threat on one device) and the vendor pollers."""
