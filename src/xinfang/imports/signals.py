"""The import's bulk hook.

``petitions_imported`` is sent once per written batch, inside its transaction, with the ids of the
petitions it created and the days they touch.  Imported petitions are written with ``bulk_create``
(no ``post_save``, no ``transition_performed`` per petition: at 100,000 rows those receivers'
per-petition queries would be most of the run), so whatever indexes or counts petitions does it
here for the whole batch.  ``receivers.py`` connects the two that exist today: the full-text
index (``search``) and the statistics' dirty days (``stats``).
"""

from django.dispatch import Signal

# kwargs: run (ImportRun), petition_ids (list[int]), days (set[date])
petitions_imported = Signal()
