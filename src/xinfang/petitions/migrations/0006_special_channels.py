from django.db import migrations

# 涉法涉诉 entries go to the political-legal organs (诉访分离); accusations against party members and
# officials go to discipline inspection.  Codes of category_seed.CATEGORIES.
SPECIAL_CHANNELS = {
    "0602": "political_legal",  # 政法 / 司法公正
    "0603": "political_legal",  # 政法 / 诉讼执行
    "07": "discipline",  # 纪检监察 and its entries
    "0701": "discipline",
    "0702": "discipline",
    "0703": "discipline",
}


def set_channels(apps, schema_editor):
    Category = apps.get_model("petitions", "Category")
    for code, kind in SPECIAL_CHANNELS.items():
        Category.objects.filter(code=code).update(route_to=kind)


class Migration(migrations.Migration):
    dependencies = [("petitions", "0005_appeals_and_recusal")]
    operations = [migrations.RunPython(set_channels, migrations.RunPython.noop)]
