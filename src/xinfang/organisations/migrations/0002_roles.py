from django.db import migrations

ROLES = ["intake", "handler", "supervisor", "leader", "sysadmin", "secadmin", "auditor"]


def create_roles(apps, schema_editor):
    Role = apps.get_model("organisations", "Role")
    for code in ROLES:
        Role.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("organisations", "0001_initial")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
