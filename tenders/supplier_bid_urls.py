"""The invited supplier's bid pages, under ``/opportunities/``.

Only for people of the bid's own supplier: everyone else gets 404. The
council's pages for bids (after the box is opened) are elsewhere.
"""

from django.urls import path

from tenders import supplier_bids

urlpatterns = [
    path("<int:pk>/lots/<int:lot_pk>/bid/", supplier_bids.bid_page, name="supplier_bid"),
    path(
        "<int:pk>/lots/<int:lot_pk>/bid/withdraw/",
        supplier_bids.bid_withdraw_page,
        name="supplier_bid_withdraw",
    ),
    path(
        "<int:pk>/lots/<int:lot_pk>/bid/files/<int:file_pk>/",
        supplier_bids.bid_file_download,
        name="supplier_bid_file",
    ),
    path(
        "<int:pk>/lots/<int:lot_pk>/bid/files/<int:file_pk>/remove/",
        supplier_bids.bid_file_remove,
        name="supplier_bid_file_remove",
    ),
    path(
        "<int:pk>/bids/<int:bid_pk>/receipts/<int:number>/",
        supplier_bids.receipt,
        name="supplier_bid_receipt",
    ),
    path(
        "<int:pk>/bids/<int:bid_pk>/receipts/<int:number>/receipt.txt",
        supplier_bids.receipt_text,
        name="supplier_bid_receipt_text",
    ),
]
