"""Vendor reports: the Reports API's reports, schedules and documents, and the vendor report types (sales,
inventory, traffic, net pure product margin, forecasting, real-time sales, traffic and inventory, coupon and
promotion performance), made from the account's history and the Retail and Direct Fulfillment worlds."""
