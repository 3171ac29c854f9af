from django.db import migrations

from xinfang.petitions.category_seed import CATEGORIES


def seed_categories(apps, schema_editor):
    Category = apps.get_model("petitions", "Category")
    for order, (code, name, children) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        for child_order, child in enumerate(children, start=1):
            Category.objects.get_or_create(
                code=f"{code}{child_order:02d}",
                defaults={"name": child, "parent": parent, "sort_order": child_order},
            )


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial")]
    operations = [migrations.RunPython(seed_categories, migrations.RunPython.noop)]
