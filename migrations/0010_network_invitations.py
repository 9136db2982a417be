from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.org import MembershipStatus
from coprod.models.users import NetworkRole
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_sign_in_kinds')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Network',
            name='host_organisation',
            field=fields.ForeignKeyField('models.Organisation', source_field='host_organisation_id', null=True, db_constraint=True, to_field='id', related_name='hosted_networks', on_delete=OnDelete.SET_NULL),
        ),
        ops.AlterField(
            model_name='NetworkMember',
            name='role',
            field=fields.CharEnumField(description='NETWORK_REPORTER: network_reporter\nNETWORK_ADMIN: network_admin', enum_type=NetworkRole, max_length=32),
        ),
        ops.AlterModelOptions(
            name='NetworkMembership',
            options={'table': 'network_membership', 'app': 'models', 'unique_together': (('network', 'organisation'),), 'pk_attr': 'id', 'table_description': "An organisation's place in a network. Only accepted members count in the network's"},
        ),
        ops.AddField(
            model_name='NetworkMembership',
            name='responded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='NetworkMembership',
            name='status',
            field=fields.CharEnumField(default=MembershipStatus.ACCEPTED, description='INVITED: invited\nACCEPTED: accepted\nDECLINED: declined', enum_type=MembershipStatus, max_length=10),
        ),
    ]
