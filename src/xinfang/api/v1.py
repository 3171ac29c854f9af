"""API v1: the NinjaAPI instance, its error shape, and the routers of each area.

Served at ``/api/v1/``; the OpenAPI document is at ``/api/v1/openapi.json`` (see docs/api.md).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.types import DictStrAny

from xinfang.core.input_guard import is_json_content_type

from .endpoints import (
    accountability,
    actions,
    auth,
    campaigns,
    contracts,
    disputes,
    duty,
    instructions,
    notifications,
    petitions,
    portal,
    reception,
    reception_portal,
    referrals,
    reports,
    statistics,
    worklist,
)
from .endpoints import documents as document_endpoints
from .endpoints import supervision as supervision_endpoints
from .errors import UnsupportedMediaType, install_error_handlers

# Refusals any operation can give before its own code runs, documented on every operation so the
# schema lists every 4xx a client can meet (issue #7 point 26; docs/api.md).
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
COMMON_RESPONSES = {
    400: "bad_request：请求含空字符（NUL），或请求体不是有效的 JSON",
}
BODY_RESPONSES = {
    413: "payload_too_large：请求体过大",
    415: "unsupported_media_type：请求体须为 JSON（Content-Type: application/json）",
}


class JsonOnlyParser(Parser):
    """Reads a JSON body only when it is declared as JSON (issue #7 point 28).

    ninja would parse any body as JSON, so a page on another site could post ``text/plain`` (a
    "simple" request, sent without a CORS preflight) and be served.  Every JSON endpoint now
    refuses other content types with 415; the upload endpoint takes multipart and never comes here.
    """

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        content_type = request.META.get("CONTENT_TYPE", "")
        if not is_json_content_type(content_type):
            raise UnsupportedMediaType(content_type)
        return super().parse_body(request)


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

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: DictStrAny | None = None
    ) -> OpenAPISchema:
        """ninja's document, plus the refusals every operation (or every one with a body) can give."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                extra = dict(COMMON_RESPONSES)
                if "requestBody" in operation:
                    extra.update(BODY_RESPONSES)
                for status, description in extra.items():
                    responses.setdefault(status, {"description": description, "content": _ERROR_CONTENT})
        return schema


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
    parser=JsonOnlyParser(),
)
install_error_handlers(api)
api.add_router("/auth", auth.router)
api.add_router("/petitions", petitions.router)
api.add_router("/petitions", actions.router)
api.add_router("/petitions", supervision_endpoints.petition_router)
api.add_router("/supervisions", supervision_endpoints.router)
api.add_router("/petitions", document_endpoints.petition_router)
api.add_router("/documents", document_endpoints.router)
api.add_router("/portal/reception-days", reception_portal.router)
api.add_router("/portal", portal.router)
api.add_router("/worklist", worklist.router)
api.add_router("/notifications", notifications.router)
api.add_router("/accountability", accountability.router)
api.add_router("/statistics", statistics.router)
# Issue #11: leaders, ledgers and campaigns.
api.add_router("/contracts", contracts.router)
api.add_router("/instructions", instructions.router)
api.add_router("/reception-days", reception.router)
api.add_router("/disputes", disputes.router)
api.add_router("/campaigns", campaigns.router)
api.add_router("/referrals", referrals.router)
api.add_router("/reports", reports.router)
api.add_router("/duty", duty.router)
