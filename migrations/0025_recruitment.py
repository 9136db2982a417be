"""Recruitment, welcome and training: opportunities, interest, outreach, courses, and the
course and audience of an activity."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from coprod.models.people import RepresentativeType
from coprod.models.recruitment import CloseReason, InterestSource, InterestStatus, OutreachKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0024_activity_feedback_entered_by')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Course',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='courses', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('formats', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('languages', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('required_for', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('archived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'course', 'app': 'models', 'unique_together': (('organisation', 'name'),), 'pk_attr': 'id', 'table_description': 'Training for representatives (induction, confidence and assertiveness, recruitment-panel'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='CourseCompletion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='course_completions', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='course_completions', on_delete=OnDelete.CASCADE)),
                ('course', fields.ForeignKeyField('models.Course', source_field='course_id', db_constraint=True, to_field='id', related_name='completions', on_delete=OnDelete.CASCADE)),
                ('completed_on', fields.DateField()),
                ('format', fields.CharField(max_length=20)),
                ('language', fields.CharField(null=True, max_length=100)),
                ('booking', fields.OneToOneField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='course_completion', on_delete=OnDelete.SET_NULL)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='course_completions_recorded', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'course_completion', 'app': 'models', 'unique_together': (('representative', 'course', 'completed_on'),), 'indexes': [Index(fields=['organisation_id', 'completed_on'])], 'pk_attr': 'id', 'table_description': 'A course someone has done: written when attendance at a session is recorded, or by a'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='CoursePlace',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('booking', fields.OneToOneField('models.Booking', source_field='booking_id', db_constraint=True, to_field='id', related_name='course_place', on_delete=OnDelete.CASCADE)),
                ('format', fields.CharField(max_length=20)),
                ('language', fields.CharField(null=True, max_length=100)),
            ],
            options={'table': 'course_place', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The format someone takes a course session in: chosen from their access needs when they'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Opportunity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='opportunities', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('activity_kind', fields.CharField(null=True, max_length=20)),
                ('involves', fields.TextField(unique=False)),
                ('easy_read', fields.TextField(null=True, unique=False)),
                ('time_commitment', fields.TextField(unique=False)),
                ('pay', fields.TextField(unique=False)),
                ('modes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('accessibility', fields.TextField(unique=False)),
                ('closes_on', fields.DateField(null=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='opportunities_created', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'opportunity', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A role the organisation is recruiting representatives into, such as a staff interview'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Outreach',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='outreach', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', null=True, db_constraint=True, to_field='id', related_name='outreach', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharEnumField(description='COMMUNITY_GROUP: community_group\nFAITH_GROUP: faith_group\nCOMMUNITY_CENTRE: community_centre\nSCHOOL_COLLEGE: school_college\nYOUTH_GROUP: youth_group\nONLINE: online\nOTHER: other', enum_type=OutreachKind, max_length=20)),
                ('held_on', fields.DateField()),
                ('place', fields.CharField(max_length=200)),
                ('people_reached', fields.IntField()),
                ('note', fields.TextField(null=True, unique=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_constraint=True, to_field='id', related_name='outreach_recorded', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'outreach', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'held_on'])], 'pk_attr': 'id', 'table_description': 'A visit or post that told people about involvement, to reach those who do not use'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Interest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='interests', on_delete=OnDelete.CASCADE)),
                ('opportunity', fields.ForeignKeyField('models.Opportunity', source_field='opportunity_id', null=True, db_constraint=True, to_field='id', related_name='interests', on_delete=OnDelete.SET_NULL)),
                ('outreach', fields.ForeignKeyField('models.Outreach', source_field='outreach_id', null=True, db_constraint=True, to_field='id', related_name='interests', on_delete=OnDelete.SET_NULL)),
                ('source', fields.CharEnumField(description='ONLINE: online\nPHONE: phone\nEMAIL: email\nLETTER: letter\nIN_PERSON: in_person', enum_type=InterestSource, max_length=10)),
                ('entered_by', fields.ForeignKeyField('models.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name='interests_entered', on_delete=OnDelete.SET_NULL)),
                ('full_name', fields.CharField(max_length=200)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('phone', fields.CharField(null=True, max_length=40)),
                ('mobile', fields.CharField(null=True, max_length=40)),
                ('postal_address', fields.TextField(null=True, unique=False)),
                ('contact_channels', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('best_time', fields.CharField(null=True, max_length=200)),
                ('representative_type', fields.CharEnumField(null=True, description='PATIENT: patient\nCARER: carer\nBOTH: both', enum_type=RepresentativeType, max_length=10)),
                ('message', fields.TextField(null=True, unique=False)),
                ('held_as_spam', fields.BooleanField(default=False)),
                ('held_reason', fields.CharField(null=True, max_length=200)),
                ('status', fields.CharEnumField(default=InterestStatus.NEW, description='NEW: new\nCHATTED: chatted\nWELCOME_BOOKED: welcome_booked\nREADY: ready\nCLOSED: closed', enum_type=InterestStatus, max_length=16)),
                ('chatted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('welcome_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('welcome_mode', fields.CharField(null=True, max_length=10)),
                ('welcome_booked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ready_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('close_reason', fields.CharEnumField(null=True, description='NOT_RIGHT_TIME: not_right_time\nNO_SUITABLE_ROLE: no_suitable_role\nSUPPORT_ELSEWHERE: support_elsewhere\nCHOSE_NOT_TO: chose_not_to\nCOULD_NOT_CONTACT: could_not_contact\nOTHER: other', enum_type=CloseReason, max_length=20)),
                ('close_note', fields.TextField(null=True, unique=False)),
                ('notes', fields.TextField(null=True, unique=False)),
                ('formats', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('translated_language', fields.CharField(null=True, max_length=100)),
                ('interpreter_language', fields.CharField(null=True, max_length=100)),
                ('needs_transport', fields.BooleanField(default=False)),
                ('other_needs', fields.TextField(null=True, unique=False)),
                ('consent_contact_on', fields.DateField(null=True)),
                ('consent_equality_on', fields.DateField(null=True)),
                ('equality_token_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', null=True, db_constraint=True, to_field='id', related_name='interests', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'interest', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'status']), Index(fields=['organisation_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'Someone said they would like to get involved. A lead moves it through new, chatted,'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='InterestEquality',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
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
                ('interest', fields.OneToOneField('models.Interest', source_field='interest_id', db_constraint=True, to_field='id', related_name='equality', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'interest_equality', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Voluntary equality answers from someone who expressed interest, for the reach report.'},
            bases=['TimestampedModel', 'EqualityAnswers'],
        ),
        ops.AddField(
            model_name='Activity',
            name='audience',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Activity',
            name='course',
            field=fields.ForeignKeyField('models.Course', source_field='course_id', null=True, db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.SET_NULL),
        ),
    ]
