"""The authentication backend: Django's own, but the user of each request comes with the
organisation and its parent in the same query (issue #12 §3).

Every staff page narrows what it shows by ``user.organisation`` and the scope's root (a petition
office's parent, ``petitions.access.scope_root``); loading them lazily cost two more queries on
every request."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        try:
            user = model._default_manager.select_related("organisation", "organisation__parent").get(
                pk=user_id
            )
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
