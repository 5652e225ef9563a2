"""The ledger's pages, a module for each part (see ``ledger/urls.py``)."""
