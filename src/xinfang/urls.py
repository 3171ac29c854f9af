"""URL map: staff pages, the public portal and API v1."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from xinfang.accounts.forms import StaffLoginForm
from xinfang.api.v1 import api as api_v1
from xinfang.organisations import views as organisation_views


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico: the static icon (its hashed name in production, hence resolved per request)."""
    return HttpResponseRedirect(static("xinfang/favicon.ico"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home", permanent=False)),
    # Browsers ask for /favicon.ico before any page names its icon: answer instead of a 404.
    path("favicon.ico", favicon),
    path("portal/reception/", include("xinfang.reception.portal_urls")),  # 接待日 and booking
    path("portal/", include("xinfang.portal.urls")),
    path(
        "staff/login/",
        auth_views.LoginView.as_view(template_name="staff/login.html", authentication_form=StaffLoginForm),
        name="login",
    ),
    path("staff/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Where the login sends everyone: the first page their role may see (issue #7 point 21).
    path("staff/home/", organisation_views.home, name="home"),
    path("staff/accounts/", include("xinfang.accounts.urls")),
    path("staff/notifications/", include("xinfang.notifications.urls")),
    path("staff/", include("xinfang.workbench.urls")),  # /staff/workbench/, /staff/export/
    path("staff/", include("xinfang.petitions.urls")),
    path("staff/organisations/", include("xinfang.organisations.urls")),
    path("staff/audit/", include("xinfang.audit.urls")),
    path("staff/workflow/", include("xinfang.workflow.urls")),
    path("staff/documents/batches/", include("xinfang.documents.batch_urls")),  # 批量打印
    path("staff/documents/", include("xinfang.documents.urls")),  # 文书
    path("staff/supervision/", include("xinfang.supervision.urls")),
    path("staff/accountability/", include("xinfang.supervision.accountability_urls")),  # 约谈/通报/建议
    path("staff/leadership/", include("xinfang.leadership.urls")),  # 包案, 阅批, 值班
    path("staff/reception/", include("xinfang.reception.urls")),  # 领导接待日, 下访/约访
    path("staff/disputes/", include("xinfang.screening.urls")),  # 矛盾纠纷排查台账
    path("staff/campaigns/", include("xinfang.campaigns.urls")),  # 积案, 专项行动, 救助
    path("staff/referrals/", include("xinfang.exchange.urls")),  # 上级交办
    path("staff/information/", include("xinfang.information.urls")),  # 信访信息/摘报
    path("staff/imports/", include("xinfang.imports.urls")),  # 历史数据导入
    path("staff/search/", include("xinfang.search.urls")),  # 检索词典
    path("staff/stats/", include("xinfang.stats.urls")),  # 统计分析, 考核, 报告
    path("staff/tokens/", include("xinfang.api.urls")),
    path("api/v1/", api_v1.urls),
    path("captcha/", include("captcha.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
