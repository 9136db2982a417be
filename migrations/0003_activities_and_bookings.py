from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.activities import ActivityStatus, BookingStatus, Category, Kind, WellbeingOutcome
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_representatives')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='projects', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('respect_agreement', fields.TextField(null=True, unique=False)),
                ('respect_agreement_required', fields.BooleanField(default=False)),
            ],
            options={'table': 'project', 'app': 'models', 'unique_together': (('organisation', 'name'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Activity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', null=True, db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.SET_NULL)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', null=True, db_constraint=True, to_field='id', related_name='activities', on_delete=OnDelete.SET_NULL)),
                ('lead', fields.ForeignKeyField('models.User', source_field='lead_id', null=True, db_constraint=True, to_field='id', related_name='activities_led', on_delete=OnDelete.SET_NULL)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('category', fields.CharEnumField(null=True, description='CO_DESIGN: co_design\nCO_DECISION: co_decision\nCO_DELIVERY: co_delivery\nCO_EVALUATION: co_evaluation', enum_type=Category, max_length=20)),
                ('kind', fields.CharEnumField(description='MEETING: meeting\nINTERVIEW_PANEL: interview_panel\nTRAINING_DELIVERY: training_delivery\nPEER_REVIEW: peer_review\nCATCH_UP: catch_up\nTRAINING_RECEIVED: training_received\nOTHER: other', enum_type=Kind, max_length=20)),
                ('status', fields.CharEnumField(default=ActivityStatus.PLANNING, description='PLANNING: planning\nSCHEDULED: scheduled\nCANCELLED: cancelled', enum_type=ActivityStatus, max_length=12)),
                ('starts_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('duration_minutes', fields.IntField()),
                ('preparation_minutes', fields.IntField(default=0)),
                ('capacity', fields.IntField()),
                ('poll_deadline', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('in_person', fields.BooleanField(default=False)),
                ('venue', fields.CharField(null=True, max_length=200)),
                ('address', fields.TextField(null=True, unique=False)),
                ('step_free', fields.BooleanField(default=False)),
                ('transport_offered', fields.BooleanField(default=False)),
                ('video', fields.BooleanField(default=False)),
                ('video_link', fields.CharField(null=True, max_length=500)),
                ('phone', fields.BooleanField(default=False)),
                ('dial_in', fields.CharField(null=True, max_length=40)),
                ('dial_in_pin', fields.CharField(null=True, max_length=20)),
            ],
            options={'table': 'activity', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Booking',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(description='INVITED: invited\nACCEPTED: accepted\nDECLINED: declined\nNEEDS_WELLBEING_CHECK: needs_wellbeing_check\nCONFIRMED: confirmed\nATTENDED: attended\nNO_SHOW: no_show\nCANCELLED: cancelled', enum_type=BookingStatus, max_length=24)),
                ('mode', fields.CharField(max_length=10)),
                ('uid', fields.CharField(unique=True, max_length=100)),
                ('sequence', fields.IntField(default=0)),
                ('starts_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'booking', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='AccessArrangement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', db_constraint=True, to_field='id', related_name='arrangements', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=20)),
                ('label', fields.CharField(max_length=200)),
                ('due_on', fields.DateField()),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('done_by', fields.ForeignKeyField('models.User', source_field='done_by_id', null=True, db_constraint=True, to_field='id', related_name='arrangements_done', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'access_arrangement', 'app': 'models', 'unique_together': (('booking', 'kind'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('mode', fields.CharField(null=True, max_length=10)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('comment', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'invitation', 'app': 'models', 'unique_together': (('activity', 'representative'),), 'pk_attr': 'id', 'table_description': 'Someone asked "when can you make it?" for an activity. The secret link lets them answer'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RespectAcknowledgement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='acknowledgements', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', null=True, db_constraint=True, to_field='id', related_name='acknowledgements', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='acknowledgements', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'respect_acknowledgement', 'app': 'models', 'unique_together': (('project', 'representative'), ('project', 'user')), 'pk_attr': 'id', 'table_description': "Someone (a representative, or a member of staff) agreed to a project's respect agreement."},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='TimeOption',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='options', on_delete=OnDelete.CASCADE)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'time_option', 'app': 'models', 'unique_together': (('activity', 'starts_at'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='OptionAnswer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('option', fields.ForeignKeyField('models.TimeOption', source_field='option_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('answer', fields.CharField(max_length=12)),
            ],
            options={'table': 'option_answer', 'app': 'models', 'unique_together': (('invitation', 'option'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='WellbeingCheck',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', db_constraint=True, to_field='id', related_name='wellbeing_checks', on_delete=OnDelete.CASCADE)),
                ('outcome', fields.CharEnumField(description='PROCEED: proceed\nPOSTPONE: postpone\nADJUST_ROLE: adjust_role\nNOT_THIS_TIME: not_this_time', enum_type=WellbeingOutcome, max_length=16)),
                ('payload', fields.TextField(unique=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='wellbeing_checks', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'wellbeing_check', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The conversation a lead had before someone took part soon after an acute episode.'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='Representative',
            name='calendar_token',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
    ]
