"""API v1: the NinjaAPI instance, its error shape, and the routers of each area."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Xinfang API",
    version="1",
    urls_namespace="api-v1",
    description="信访业务系统接口：供12345热线平台和上级系统对接。",
)
