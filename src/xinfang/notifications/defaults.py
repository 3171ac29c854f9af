"""The default message templates (created by migration 0002; the system administrator may reword
them on the templates page, within each template's placeholders).

The query code is never a placeholder: an SMS can be read by whoever holds the phone, and the code
is what opens the petition on the portal (it is told once, at registration, on paper or screen).
"""

from __future__ import annotations

# code: (name, channel, placeholders, text)
DEFAULT_TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    "registered": (
        "登记",
        "sms",
        "number portal",
        "您的信访事项已登记，编号{number}。请凭编号和登记时告知的查询码在{portal}查询办理进度。",
    ),
    "accepted": (
        "受理",
        "sms",
        "number organisation due_on portal",
        "您的信访事项{number}已由{organisation}受理，将于{due_on}前办理完毕并书面答复。",
    ),
    "declined": (
        "不予受理",
        "sms",
        "number portal",
        "您的信访事项{number}不予受理，书面告知已出具，理由可在{portal}查看。",
    ),
    "redirected": (
        "告知其他途径",
        "sms",
        "number portal",
        "您的信访事项{number}应通过其他法定途径解决，具体途径已书面告知，可在{portal}查看。",
    ),
    "forwarded": (
        "转送",
        "sms",
        "number organisation portal",
        "您的信访事项{number}已转送{organisation}，由该单位决定是否受理并告知您。",
    ),
    "assigned": (
        "交办",
        "sms",
        "number organisation portal",
        "您的信访事项{number}已交办{organisation}办理，信访部门将督促办理。",
    ),
    "extended": (
        "延长办理期限",
        "sms",
        "number due_on reason portal",
        "您的信访事项{number}办理期限已延长至{due_on}。延期理由：{reason}",
    ),
    "replied": (
        "出具处理意见",
        "sms",
        "number organisation review_by portal",
        "您的信访事项{number}已由{organisation}出具处理意见。如不服，可在{review_by}前"
        "（收到之日起30日内）向上一级机关请求复查。详见{portal}。",
    ),
    "reviewed": (
        "出具复查意见",
        "sms",
        "number organisation recheck_by portal",
        "您的信访事项{number}复查意见已由{organisation}出具。如不服，可在{recheck_by}前"
        "（收到之日起30日内）向复查机关的上一级机关请求复核。详见{portal}。",
    ),
    "concluded": (
        "终结",
        "sms",
        "number portal",
        "您的信访事项{number}已办结，信访程序终结。详见{portal}。",
    ),
}
