"""The notice kinds: documents that record a step the procedure has taken (receipt, acceptance,
non-acceptance, redirect, forwarding and assignment slips, extension, hearing, supervision letter,
conclusion) and the mediation or settlement agreement (Art. 33).  Issuing them takes no workflow
step; they are numbered, printed and served like every document."""

from __future__ import annotations
