"""The council's side of opportunities: the list, the page of one opportunity,
writing and editing a draft, the lot builder (``opportunities``), inviting
suppliers (``invitations``), publishing, answering questions and amending an
open opportunity (``actions``), and the sealed box, evaluation and award
(``bids``); who may use them is in ``common``.

``tenders.views.shared`` sends council users here for the list and the page of
one opportunity. Everything else is for the buyer's procurement officers: the
council's auditors and administrators see the pages read-only (and get 403
from the actions), suppliers and other councils' people get 404. Every change
goes through ``tenders.services``; their refusals become GOV.UK error
messages, and the form keeps what was typed.
"""
