"""The editable text of the reception reminder SMS (notifications' 短信模板 page), created once."""

from django.db import migrations

CODE = "reception_reminder"
TEXT = (
    "您预约的{organisation}领导接待日为{date} {time}，地点：{place}。"
    "请携带身份证件按时到达；不能前来的，请凭预约码取消。"
)


def create(apps, schema_editor):
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    MessageTemplate.objects.get_or_create(
        code=CODE,
        defaults={
            "name": "接待日预约提醒",
            "channel": "sms",
            "placeholders": "organisation date time place",
            "text": TEXT,
        },
    )


def remove(apps, schema_editor):
    apps.get_model("notifications", "MessageTemplate").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("reception", "0001_initial"), ("notifications", "0002_default_templates")]
    operations = [migrations.RunPython(create, remove)]
