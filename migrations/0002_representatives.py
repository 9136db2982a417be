from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from coprod.models.people import ConsentPurpose, PaymentPreference, RepresentativeType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Representative',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='representatives', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='representatives', on_delete=OnDelete.SET_NULL)),
                ('lead', fields.ForeignKeyField('models.User', source_field='lead_id', null=True, db_constraint=True, to_field='id', related_name='represented', on_delete=OnDelete.SET_NULL)),
                ('full_name', fields.CharField(max_length=200)),
                ('representative_type', fields.CharEnumField(description='PATIENT: patient\nCARER: carer\nBOTH: both', enum_type=RepresentativeType, max_length=10)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('phone', fields.CharField(null=True, max_length=40)),
                ('mobile', fields.CharField(null=True, max_length=40)),
                ('postal_address', fields.TextField(null=True, unique=False)),
                ('contact_channels', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('lived_experience_teams', fields.ManyToManyField('models.Team', unique=True, db_constraint=True, through='representative_team', forward_key='team_id', backward_key='representative_id', related_name='representatives', on_delete=OnDelete.CASCADE)),
                ('formats', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('translated_language', fields.CharField(null=True, max_length=100)),
                ('interpreter_language', fields.CharField(null=True, max_length=100)),
                ('needs_transport', fields.BooleanField(default=False)),
                ('wants_tech_test', fields.BooleanField(default=False)),
                ('other_needs', fields.TextField(null=True, unique=False)),
                ('preferred_modes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('unavailable', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('unavailable_note', fields.TextField(null=True, unique=False)),
                ('payment_preference', fields.CharEnumField(default=PaymentPreference.PAID, description='PAID: paid\nDECLINE: decline', enum_type=PaymentPreference, max_length=10)),
                ('break_until', fields.DateField(null=True)),
                ('archived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'representative', 'app': 'models', 'unique_together': (('organisation', 'user'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='AcuteEpisode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='episodes', on_delete=OnDelete.CASCADE)),
                ('payload', fields.TextField(unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'acute_episode', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Special-category health data. Dates, crisis-team care and the note are one encrypted'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Consent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='consents', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='CONTACT: contact\nHEALTH: health\nEQUALITY: equality', enum_type=ConsentPurpose, max_length=10)),
                ('given_on', fields.DateField()),
                ('review_on', fields.DateField()),
                ('withdrawn_on', fields.DateField(null=True)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='consents_recorded', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'consent', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Contract',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='contracts', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='contracts', on_delete=OnDelete.CASCADE)),
                ('role_title', fields.CharField(max_length=100)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('ended_on', fields.DateField(null=True)),
                ('end_reason', fields.TextField(null=True, unique=False)),
                ('predecessor', fields.ForeignKeyField('models.Contract', source_field='predecessor_id', null=True, db_constraint=True, to_field='id', related_name='successors', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'contract', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='CatchUp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name='catch_ups', on_delete=OnDelete.CASCADE)),
                ('held_on', fields.DateField()),
                ('note', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'catch_up', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A twice-yearly half-day catch-up that took place under a contract.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='EqualityResponse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('representative', fields.OneToOneField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='equality', on_delete=OnDelete.CASCADE)),
                ('age_band', fields.CharField(null=True, max_length=40)),
                ('disability', fields.CharField(null=True, max_length=40)),
                ('gender_reassignment', fields.CharField(null=True, max_length=40)),
                ('marriage_civil_partnership', fields.CharField(null=True, max_length=40)),
                ('pregnancy_maternity', fields.CharField(null=True, max_length=40)),
                ('ethnicity', fields.CharField(null=True, max_length=80)),
                ('religion', fields.CharField(null=True, max_length=40)),
                ('sex', fields.CharField(null=True, max_length=40)),
                ('sexual_orientation', fields.CharField(null=True, max_length=40)),
                ('carer_status', fields.CharField(null=True, max_length=40)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'equality_response', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Voluntary equality monitoring, kept apart from the profile and used only in aggregate.'},
            bases=['TimestampedModel'],
        ),
    ]
