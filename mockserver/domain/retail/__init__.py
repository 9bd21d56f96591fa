"""Retail Procurement: purchase orders, acknowledgements, shipments (ASN), invoices and their rules."""
