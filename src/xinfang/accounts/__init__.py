"""Staff authentication: the login sequence (password, per-account lock, second factor), password
policy and session limits (issue #7 points 17-20).  Floor 1: imports ``organisations`` and
``audit``; the ``User`` model stays in ``organisations``."""
