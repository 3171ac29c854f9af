from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    """Template variables every page needs: the signed-in staff member's roles."""
    user = getattr(request, "user", None)
    roles = user.role_codes if user is not None and user.is_authenticated else frozenset()
    return {"user_roles": roles}
