"""The authentication backend: Django's own, but the user of each request comes with the
organisation, its parent and the user's role codes in the same query (issue #12 §3).

Every staff page narrows what it shows by ``user.organisation`` and the scope's root (a petition
office's parent, ``petitions.access.scope_root``) and checks ``user.role_codes``; loading them
lazily cost three more queries on every request.  The API's token look-up does the same
(``api.services.authenticate_token``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from xinfang.organisations.models import role_codes_of


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        model = get_user_model()
        users = model._default_manager.select_related("organisation", "organisation__parent")
        try:
            user = users.annotate(_role_codes=role_codes_of()).get(pk=user_id)
        except model.DoesNotExist:
            return None
        user.set_role_codes(user.__dict__.pop("_role_codes"))
        return user if self.user_can_authenticate(user) else None
