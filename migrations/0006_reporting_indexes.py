from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_reporting')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Involvement',
            name='day',
            field=fields.DateField(),
        ),
        ops.AlterField(
            model_name='Involvement',
            name='representative_id',
            field=fields.IntField(),
        ),
        ops.AddIndex(
            model_name='Involvement',
            index=Index(fields=['representative_id', 'organisation_id', 'day']),
        ),
    ]
