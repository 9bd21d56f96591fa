"""Direct Fulfillment: orders, acknowledgements, shipping labels, shipments, packing slips, customer invoices,
invoices (payments), inventory and sandbox test data, in both API versions, and their rules."""
