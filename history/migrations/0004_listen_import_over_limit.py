from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("history", "0003_listen_import_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="listenimport",
            name="over_limit",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
