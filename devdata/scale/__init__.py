"""Council-scale data: the rows behind ``manage.py seed_scale`` and the query-count tests.

``build(sizes)`` adds one batch of data to the demo council (which must exist:
``seed_demo``): suppliers with sites, categories and a user each; officers;
opportunities over ten financial years in every state, with lots, criteria,
route checks, invitations, bids with their versions and files, box openings,
scores, awards and contracts; inbox messages; and the audit events of all of
it. The sizes are parameters, so the tests run the same code at a small scale;
``build`` may be called again and adds another batch.

One module per thing made, each step drawing in turn from the batch's one
random generator (``batch.Batch``), run in order by ``builder.build``:

- ``shapes``: how much to make (``Sizes``) and what it is drawn from;
- ``writer``: rows in fast (``COPY`` on PostgreSQL), audit events with their hash;
- ``suppliers``, ``officers``, ``opportunities`` (route and band by the rule,
  ``tenders.rules``), ``invitations``, ``bids``, ``awards`` (openings, scores,
  awards, contracts), ``inbox``, ``files`` (the bid files on disk).

Rows go in with ``COPY`` on PostgreSQL (``executemany`` elsewhere) with ids
reserved from each table's sequence. Nothing is switched off: constraints,
foreign keys and indexes are all checked as usual. The same seed and "now"
make the same rows (``tests/test_scale_builder.py``), but for the receipt
references, which are random by design.
"""

from devdata.scale.batch import Report
from devdata.scale.builder import build, flush_everything, present
from devdata.scale.files import remove_files
from devdata.scale.shapes import (
    MEDIA_FOLDER,
    PERSONA_SUPPLIER,
    SUPPLIER_DOMAIN,
    TRADES,
    Sizes,
)

__all__ = [
    "MEDIA_FOLDER",
    "PERSONA_SUPPLIER",
    "SUPPLIER_DOMAIN",
    "TRADES",
    "Report",
    "Sizes",
    "build",
    "flush_everything",
    "present",
    "remove_files",
]
