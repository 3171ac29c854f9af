"""Signals of the procedure, for the apps above ``workflow`` (notifications, supervision) to react
to a transition without ``workflow`` importing them (docs/architecture.md, floors).

``transition_performed`` is sent by ``engine.perform`` **inside** the transaction, after the
petition, its timeline event and its audit event are written.  A receiver that writes rows (an
outbox message, a notification) therefore commits or rolls back with the action; anything that
leaves the process (mail, SMS) must be queued with ``core.jobs.enqueue``, which waits for the
commit.  Arguments: ``petition``, ``action`` (the transition's name), ``user`` (staff user, or
``engine.Citizen``/``engine.System``), ``event`` (the ``PetitionEvent`` just written), ``source``
(the state before).
"""

from django.dispatch import Signal

transition_performed = Signal()
