from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from coprod.models.outbox import OutboxStatus
from coprod.models.users import LinkPurpose, NetworkRole, Role
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Network',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
            ],
            options={'table': 'network', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A group of organisations that compares figures, e.g. a quality network or an ICB.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Organisation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('name', fields.CharField(max_length=200)),
                ('slug', fields.CharField(unique=True, max_length=80)),
            ],
            options={'table': 'organisation', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A trust. Every record that belongs to a trust points here, and access stops at it.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='NetworkMembership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('network', fields.ForeignKeyField('models.Network', source_field='network_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='network_memberships', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'network_membership', 'app': 'models', 'unique_together': (('network', 'organisation'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='outbox', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(default='email', max_length=20)),
                ('to_address', fields.CharField(max_length=254)),
                ('subject', fields.CharField(max_length=255)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(unique=False)),
                ('attachments', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('message_id', fields.CharField(unique=True, max_length=255)),
                ('dedupe_key', fields.CharField(null=True, unique=True, max_length=200)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=OutboxStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SignInAttempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('account', fields.CharField(db_index=True, max_length=254)),
                ('address', fields.CharField(db_index=True, max_length=64)),
                ('succeeded', fields.BooleanField(default=False)),
            ],
            options={'table': 'sign_in_attempt', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Kept for throttling, per account and per address, over a sliding window.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Team',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='teams', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
            ],
            options={'table': 'team', 'app': 'models', 'unique_together': (('organisation', 'name'),), 'pk_attr': 'id', 'table_description': 'A team or service within an organisation, e.g. a crisis resolution team.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('full_name', fields.CharField(max_length=200)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('is_active', fields.BooleanField(default=True)),
                ('last_signed_in_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'user', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='api_tokens', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', db_constraint=True, to_field='id', related_name='api_tokens', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
                ('role', fields.CharEnumField(description='INVOLVEMENT_LEAD: involvement_lead\nREPRESENTATIVE: representative\nFINANCE_OFFICER: finance_officer\nORG_ADMIN: org_admin\nREPORTER: reporter', enum_type=Role, max_length=32)),
                ('prefix', fields.CharField(max_length=12)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An organisation-scoped token for the JSON API, stored as a hash and shown once.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.CASCADE)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('actor_label', fields.CharField(max_length=255)),
                ('on_behalf_of', fields.CharField(null=True, max_length=255)),
                ('action', fields.CharField(db_index=True, max_length=100)),
                ('entity_type', fields.CharField(max_length=50)),
                ('entity_id', fields.CharField(null=True, max_length=50)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('via', fields.CharField(default='web', max_length=20)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='EmailLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='email_links', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='SIGN_IN: sign_in\nPASSWORD_RESET: password_reset', enum_type=LinkPurpose, max_length=20)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_link', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A single-use link sent by email. Only a hash of the secret is kept.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='INVOLVEMENT_LEAD: involvement_lead\nREPRESENTATIVE: representative\nFINANCE_OFFICER: finance_officer\nORG_ADMIN: org_admin\nREPORTER: reporter', enum_type=Role, max_length=32)),
            ],
            options={'table': 'membership', 'app': 'models', 'unique_together': (('user', 'organisation', 'role'),), 'pk_attr': 'id', 'table_description': 'One role a user holds in one organisation.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='NetworkMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='network_roles', on_delete=OnDelete.CASCADE)),
                ('network', fields.ForeignKeyField('models.Network', source_field='network_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='NETWORK_REPORTER: network_reporter', enum_type=NetworkRole, max_length=32)),
            ],
            options={'table': 'network_member', 'app': 'models', 'unique_together': (('user', 'network', 'role'),), 'pk_attr': 'id', 'table_description': 'The role a user holds on a network (network reporters see roll-ups, never personal data).'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('key_hash', fields.CharField(unique=True, max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A signed-in browser. The cookie holds a secret and the row holds only its hash.'},
            bases=['TimestampedModel'],
        ),
    ]
