"""The invited supplier's side of opportunities: the list of its invitations,
an opportunity's page, its question and intention (``opportunities``), and
its own bid on each lot with the receipts (``bids``).

``tenders.views.shared`` sends suppliers here for the list and the page of one
opportunity. Every opportunity is looked up through ``get_opportunity_for``,
so a supplier that was not invited (or a draft) gets 404.
"""
