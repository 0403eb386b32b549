from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("history", "0004_interaction_context_choices"),
    ]

    operations = [
        migrations.AddField(
            model_name="listenimport",
            name="over_limit",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
