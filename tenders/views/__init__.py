"""The pages of tenders, by who they are for. All their URLs are in
``tenders/urls.py`` (``tenders:<name>``); from an address to its module:

=====================================================  ==========================================
URL                                                    module (``tenders.views.``)
=====================================================  ==========================================
``/opportunities/``, ``/opportunities/<pk>/``,         ``shared``: the list and the page of one
``/opportunities/<pk>/documents/<document_pk>/``,      opportunity, each role's own version
``/opportunities/<pk>/deadlines.ics``                  (``officer.opportunities`` or
                                                       ``supplier.opportunities``), documents,
                                                       the deadlines as a calendar file
``/opportunities/new/``, ``<pk>/edit/``,               ``officer.opportunities``: the officer's
``<pk>/lots/areas/``                                   list and page, writing a draft, the lot
                                                       builder
``/opportunities/<pk>/invite/...``                     ``officer.invitations``
``/opportunities/<pk>/publish/``, ``documents/add/``,  ``officer.actions``: publishing, documents,
``questions/<q>/answer/``, ``override/``,              answers, the override, cancelling and
``cancel/``, ``deadline/``, ``correct/``, ``value/``   amending
``/opportunities/<pk>/bids/...`` (but receipts),       ``officer.bids``: the sealed box, evaluation
``<pk>/lots/<lot>/evaluation/``, ``.../award/``        and award
``/opportunities/<pk>/ask/``, ``<pk>/intention/``,     ``supplier.opportunities``: the invited
``<pk>/outcome/``                                      supplier's question and intention, its
                                                       outcome letters
``/opportunities/<pk>/lots/<lot>/bid/...``,            ``supplier.bids``: the supplier's own bid
``<pk>/bids/<bid>/receipts/...``                       and its receipts
``/council/policy/...``                                ``policy``: the procurement policy and the
                                                       "full tender required" register
=====================================================  ==========================================

Their forms are in ``tenders.forms``; what they read, in ``tenders.selectors``;
every change goes through ``tenders.services``.
"""
