"""Static choices of the organisation tree and staff roles (GLOSSARY.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    NATIONAL = "national", _("国家")
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("县")
    TOWNSHIP = "township", _("乡镇")
    VILLAGE = "village", _("村")


class OrganisationKind(models.TextChoices):
    GOVERNMENT = "government", _("人民政府")
    DEPARTMENT = "department", _("职能部门")
    PETITION_OFFICE = "petition_office", _("信访工作机构")
    COURT = "court", _("人民法院")
    PROCURATORATE = "procuratorate", _("人民检察院")
    POLITICAL_LEGAL = "political_legal", _("政法委")
    DISCIPLINE = "discipline", _("纪检监察机关")
    PARTY = "party", _("党委")
    OTHER = "other", _("其他")


class RoleCode(models.TextChoices):
    INTAKE = "intake", _("登记员")
    HANDLER = "handler", _("承办人")
    SUPERVISOR = "supervisor", _("督办员")
    LEADER = "leader", _("领导")
    SYSADMIN = "sysadmin", _("系统管理员")
    SECADMIN = "secadmin", _("安全管理员")
    AUDITOR = "auditor", _("审计管理员")


# 三员分立: the three administrator duties never combine with each other (domain.md §4.1).
ADMIN_ROLES = frozenset({RoleCode.SYSADMIN, RoleCode.SECADMIN, RoleCode.AUDITOR})
# Roles that work on petitions and therefore see them.
CASEWORK_ROLES = frozenset({RoleCode.INTAKE, RoleCode.HANDLER, RoleCode.SUPERVISOR, RoleCode.LEADER})


class GrantKind(models.TextChoices):
    """What a four-eyes request (GrantRequest) asks for (docs/security.md §2)."""

    ACCOUNT = "account", _("角色与启用状态")
    TOKEN = "token", _("接口令牌")


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    WITHDRAWN = "withdrawn", _("已撤回")
    CANCELLED = "cancelled", _("已失效")
    EXPIRED = "expired", _("已过期")
