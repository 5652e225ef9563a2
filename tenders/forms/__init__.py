"""The forms of tenders' pages (``tenders.views``), a module for each family:

* ``fields``: form fields and repeatable rows shared by the officer's forms;
* ``opportunity``: writing or editing an opportunity (the officer);
* ``actions``: the officer's smaller forms: the list's filter, the lot
  builder, invitations, answers, documents, the override, cancelling and
  amending;
* ``evaluation``: the officer's bid pages: a mark, an exclusion, the award;
* ``supplier``: the invited supplier's question and intention;
* ``bid``: the invited supplier's bid on one lot;
* ``policy``: a new version of the council's procurement policy.

Every form works without JavaScript. Repeated rows (lots, criteria) are plain
numbered fields; "Add another lot" posts the form back with one more row, and
a blank row is ignored. Deadlines are typed as a date and a 24-hour time in
UK time and converted with ``zoneinfo``, so British Summer Time is right.
Nothing here decides whether a change is allowed: ``tenders.services`` do,
and the views show their refusals.
"""
