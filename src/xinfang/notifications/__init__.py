"""Notifications: the in-app bell, e-mail to staff and SMS to petitioners, sent by the worker from
an outbox table after the transaction that caused them commits."""
