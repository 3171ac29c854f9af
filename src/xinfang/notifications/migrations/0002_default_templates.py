"""Create the default message templates (a template the administrator has already edited is kept)."""

from django.db import migrations


def create(apps, schema_editor):
    from xinfang.notifications.defaults import DEFAULT_TEMPLATES

    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for code, (name, channel, placeholders, text) in DEFAULT_TEMPLATES.items():
        MessageTemplate.objects.get_or_create(
            code=code, defaults={"name": name, "channel": channel, "placeholders": placeholders, "text": text}
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
