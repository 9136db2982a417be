from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.users import SignInKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_staff_phone')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='SignInAttempt',
            options={'table': 'sign_in_attempt', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Kept for throttling, per account and per address, over a sliding window. Password tries'},
        ),
        ops.AlterField(
            model_name='SignInAttempt',
            name='succeeded',
            field=fields.BooleanField(null=True),
        ),
        ops.AddField(
            model_name='SignInAttempt',
            name='kind',
            field=fields.CharEnumField(default=SignInKind.PASSWORD, description='PASSWORD: password\nLINK: link', enum_type=SignInKind, max_length=10),
        ),
    ]
