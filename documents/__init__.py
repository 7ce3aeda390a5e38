"""Renderers of an issued invoice (domain.billing.document.InvoiceDocument) into the files people and programs
receive: the PDF (with the Swiss QR-bill slip), the EN 16931 e-invoice (XRechnung CII, ZUGFeRD PDF/A-3), the DATEV
and BMD booking exports and the SEPA direct debit file. Pure functions from domain objects to bytes: no database,
no network, no clock; the activities that issue an invoice store what these return."""
