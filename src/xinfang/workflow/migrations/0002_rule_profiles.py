"""Seed the deadline rules: the national 《信访工作条例》 (2022) as the default, and Zhejiang's own.

The numbers and their sources are in docs/procedure.md (from domain.md §1.2).  ``confirmed`` is True
where the length was read in the text of the regulation, False where it is an assumption.  Reading
plain “日” as calendar days is itself an inference (only Art. 23 says “工作日”); the profile
descriptions say so.  The function is idempotent: it adds what is missing and never overwrites what
an administrator has changed, so a test helper may call it again after a flush.
"""

from django.db import migrations

NATIONAL = {
    "code": "national-2022",
    "name": "全国（《信访工作条例》，2022年）",
    "description": (
        "中共中央、国务院《信访工作条例》，2022年5月1日起施行，是全国默认的时限规则。"
        "条例除第二十三条“5个工作日”外均写作“日”，此处按自然日计算（推定，未见国家信访局的解释）；"
        "期限的计算参照《民法典》第二百零一条、第二百零三条：开始的当日不计入，最后一日是法定节假日的顺延至其后第一个工作日。"
    ),
    "rules": [
        # step, length, unit, source, confirmed, note
        ("disposal", 15, "calendar_days", "《信访工作条例》第二十二条", True, "自收到信访事项之日起15日内分别按规定方式处理。"),
        ("unit_acceptance", 15, "calendar_days", "《信访工作条例》第二十三条第三款", True,
         "收到转送、交办事项后15日内书面告知信访人接收情况及处理途径和程序。"),
        ("objection", 5, "working_days", "《信访工作条例》第二十三条第三款", True,
         "不属于本机关职权范围的，自收到之日起5个工作日内提出异议并详细说明理由。"),
        ("handling", 60, "calendar_days", "《信访工作条例》第三十四条", True, "自受理之日起60日内办结。"),
        ("extension", 30, "calendar_days", "《信访工作条例》第三十四条", True,
         "情况复杂的，经本机关负责人批准可延长，延长不得超过30日，并告知信访人延期理由。"),
        ("review_request", 30, "calendar_days", "《信访工作条例》第三十五条", True, "自收到书面答复之日起30日内请求复查。"),
        ("review", 30, "calendar_days", "《信访工作条例》第三十五条", True, "自收到复查请求之日起30日内提出复查意见。"),
        ("recheck_request", 30, "calendar_days", "《信访工作条例》第三十六条", True, "自收到复查意见之日起30日内请求复核。"),
        ("recheck", 30, "calendar_days", "《信访工作条例》第三十六条", True,
         "自收到复核请求之日起30日内提出复核意见；听证所需时间不计算在内。"),
        ("evaluation", 7, "calendar_days", "《信访事项办理群众满意度评价工作办法》（国信发〔2022〕11号）", False,
         "评价期限未核实：未找到该办法的原文，7日为暂定值，请按本地规定修改。"),
    ],
}

ZHEJIANG = {
    "code": "zhejiang-2016",
    "name": "浙江省（《浙江省信访条例》，2016年修订）",
    "description": (
        "《浙江省信访条例》（2016年7月29日修订）规定的时限：登记处理和告知受理按工作日计算，"
        "办理30日、可延长不超过60日。未列出的环节沿用全国默认规则（推定：该条例早于2022年全国条例，"
        "两者不一致时以哪一个为准，请本省确认）。请在“适用省份”中绑定浙江省的省级机构。"
    ),
    "province_code": "330000",
    "rules": [
        ("disposal", 5, "working_days", "《浙江省信访条例》第二十条", True,
         "能够当场答复的当场答复；不能当场答复的，自收到之日起5个工作日内处理。"),
        ("unit_acceptance", 5, "working_days", "《浙江省信访条例》第二十条", True,
         "收到转送、交办的信访事项后5个工作日内决定是否受理并书面告知。"),
        ("handling", 30, "calendar_days", "《浙江省信访条例》第二十三条", True,
         "一般自受理之日起30日内办结（“日”按自然日计算系推定）。"),
        ("extension", 60, "calendar_days", "《浙江省信访条例》第二十三条", True, "情况复杂的可以延长，延长不超过60日。"),
    ],
}  # fmt: skip


def seed_rule_profiles(apps, schema_editor):
    RuleProfile = apps.get_model("workflow", "RuleProfile")
    PeriodRule = apps.get_model("workflow", "PeriodRule")
    Organisation = apps.get_model("organisations", "Organisation")
    for spec, is_default in ((NATIONAL, True), (ZHEJIANG, False)):
        province = None
        if spec.get("province_code"):
            province = Organisation.objects.filter(
                level="province", kind="government", code=spec["province_code"]
            ).first()
            # Never take a province another profile already holds (an administrator's choice wins).
            if province is not None and RuleProfile.objects.filter(province=province).exists():
                province = None
        profile, created = RuleProfile.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "is_default": is_default and not RuleProfile.objects.filter(is_default=True).exists(),
                "province": province,
            },
        )
        if not created and profile.is_default != is_default:
            continue  # the administrator re-arranged the profiles: leave them alone
        for step, length, unit, source, confirmed, note in spec["rules"]:
            PeriodRule.objects.get_or_create(
                profile=profile,
                step=step,
                defaults={
                    "length": length,
                    "unit": unit,
                    "roll_forward": True,
                    "source": source,
                    "confirmed": confirmed,
                    "note": note,
                },
            )


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0001_initial"),
        ("organisations", "0001_initial"),
    ]
    operations = [migrations.RunPython(seed_rule_profiles, migrations.RunPython.noop)]
