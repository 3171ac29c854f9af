"""Signals of the procedure, for the apps above ``workflow`` (notifications, supervision) to react
to a transition without ``workflow`` importing them (docs/architecture.md, floors).

``transition_performed`` is sent by ``engine.perform`` **inside** the transaction, after the
petition, its timeline event and its audit event are written.  A receiver that writes rows (an
outbox message, a notification) therefore commits or rolls back with the action; anything that
leaves the process (mail, SMS) must be queued with ``core.jobs.enqueue``, which waits for the
commit.  Arguments: ``petition``, ``action`` (the transition's name), ``user`` (staff user, or
``engine.Citizen``/``engine.System``), ``event`` (the ``PetitionEvent`` just written), ``source``
(the state before).  The service of a decision letter or an opinion (``appeals.serve_letter`` /
``serve_opinion``) is announced the same way with action ``serve_letter`` / ``serve_opinion``,
``event`` None and ``user`` None: it starts the petitioner's windows but is no transition.
"""

from django.dispatch import Signal

transition_performed = Signal()
