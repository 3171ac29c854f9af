"""API v1: the NinjaAPI instance, its error shape, and the routers of each area.

Served at ``/api/v1/``; the OpenAPI document is at ``/api/v1/openapi.json`` (see docs/api.md).
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.operation import Operation

from .endpoints import actions, auth, petitions, portal
from .errors import install_error_handlers


class XinfangAPI(NinjaAPI):
    """NinjaAPI with client-facing error locations and short operation ids."""

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """Like ninja's, but a body error is located from the body's root: ``("body", "title")``,
        not ``("body", "payload", "title")`` — the endpoint's parameter name means nothing to
        the client."""
        errors: list[dict[str, Any]] = []
        for context in error_contexts:
            model = context.model
            source = model.__ninja_param_source__
            for error in context.pydantic_validation_error.errors(include_url=False):
                loc = model.__ninja_flatten_map_reverse__.get(error["loc"], error["loc"])
                if source == "body" and loc and loc[0] in model.model_fields:
                    loc = loc[1:]
                error.pop("input", None)  # never echo what was sent (it may be a password)
                if "ctx" in error and isinstance(error["ctx"].get("error"), Exception):
                    error["ctx"]["error"] = str(error["ctx"]["error"])
                errors.append({**error, "loc": (source, *loc)})
        return ValidationError(errors)

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return operation.view_func.__name__


api = XinfangAPI(
    title="Xinfang API",
    version="1",
    urls_namespace="api-v1",
    description=(
        "信访业务系统接口：供12345热线平台、上级系统和网上信访对接。错误格式、鉴权和幂等见 docs/api.md。"
    ),
    # The Swagger page would load its scripts from a CDN unless "ninja" is an installed app;
    # the system ships no CDN dependencies, so only the JSON document is served.
    docs_url=None,
)
install_error_handlers(api)
api.add_router("/auth", auth.router)
api.add_router("/petitions", petitions.router)
api.add_router("/petitions", actions.router)
api.add_router("/portal", portal.router)
