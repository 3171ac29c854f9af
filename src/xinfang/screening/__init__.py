"""The dispute screening ledger (矛盾纠纷排查台账): ``Dispute`` records, separate from petitions because
most disputes never become one, screening rounds that each unit completes, quarterly briefings (通报),
and the 排查率 / 化解率 figures per unit."""
