"""Billing: pure logic of the monthly run (money, VAT, recurring lines, billable time, contingents, invoice totals)."""
