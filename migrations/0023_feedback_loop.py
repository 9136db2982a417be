"""Closing the loop: surveys and their answers, feedback themes, "You said, we did" actions and
what they link to, representatives' feedback on activities, each team's feedback champion, and
teams' marks and evidence against the quality network's standards."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from coprod.models.feedback import ActionStatus, Agreement, Audience, EvidenceKind, JourneyStage, QuestionKind, ResponseSource, StandardStatus, SurveyStage, SurveyStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0022_message_follow_up')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActivityFeedback',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='activity_feedback', on_delete=OnDelete.CASCADE)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='activity_feedback', on_delete=OnDelete.CASCADE)),
                ('booking', fields.OneToOneField('models.Booking', source_field='booking_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('rating', fields.SmallIntField()),
                ('listened_to', fields.CharEnumField(description='YES: yes\nPARTLY: partly\nNO: no', enum_type=Agreement, max_length=8)),
                ('access_met', fields.CharEnumField(null=True, description='YES: yes\nPARTLY: partly\nNO: no', enum_type=Agreement, max_length=8)),
                ('comments', fields.TextField(null=True, unique=False)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reviewed_by', fields.ForeignKeyField('models.User', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name='activity_feedback_reviewed', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'activity_feedback', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'submitted_at']), Index(fields=['activity_id'])], 'pk_attr': 'id', 'table_description': 'How an attended activity went for one representative: once per booking.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='FeedbackAction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='feedback_actions', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='feedback_actions', on_delete=OnDelete.CASCADE)),
                ('you_said', fields.TextField(unique=False)),
                ('we_did', fields.TextField(unique=False)),
                ('owner', fields.ForeignKeyField('models.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='feedback_actions_owned', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ActionStatus.PLANNED, description='PLANNED: planned\nIN_PROGRESS: in_progress\nDONE: done\nNOT_POSSIBLE: not_possible', enum_type=ActionStatus, max_length=12)),
                ('not_possible_reason', fields.TextField(null=True, unique=False)),
                ('on_board', fields.BooleanField(default=True)),
                ('done_on', fields.DateField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'feedback_action', 'app': 'models', 'indexes': [Index(fields=['team_id', 'status']), Index(fields=['organisation_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A "You said, we did" action: what people said, what the team is doing about it, who owns'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ActionActivity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('action', fields.ForeignKeyField('models.FeedbackAction', source_field='action_id', db_constraint=True, to_field='id', related_name='activity_links', on_delete=OnDelete.CASCADE)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', db_constraint=True, to_field='id', related_name='action_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'action_activity', 'app': 'models', 'unique_together': (('action', 'activity'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ActionActivityFeedback',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('action', fields.ForeignKeyField('models.FeedbackAction', source_field='action_id', db_constraint=True, to_field='id', related_name='feedback_links', on_delete=OnDelete.CASCADE)),
                ('feedback', fields.ForeignKeyField('models.ActivityFeedback', source_field='feedback_id', db_constraint=True, to_field='id', related_name='action_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'action_activity_feedback', 'app': 'models', 'unique_together': (('action', 'feedback'),), 'pk_attr': 'id', 'table_description': "A representative's feedback on an activity that an action answers: they are told when"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ActionProject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('action', fields.ForeignKeyField('models.FeedbackAction', source_field='action_id', db_constraint=True, to_field='id', related_name='project_links', on_delete=OnDelete.CASCADE)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='action_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'action_project', 'app': 'models', 'unique_together': (('action', 'project'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='FeedbackTheme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='feedback_themes', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=100)),
            ],
            options={'table': 'feedback_theme', 'app': 'models', 'unique_together': (('organisation', 'name'),), 'pk_attr': 'id', 'table_description': 'A theme the feedback champion tags answers with, e.g. "waiting times".'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='StandardReview',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='standard_reviews', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='standard_reviews', on_delete=OnDelete.CASCADE)),
                ('edition', fields.CharField(max_length=20)),
                ('number', fields.SmallIntField()),
                ('status', fields.CharEnumField(description='MET: met\nPARTLY_MET: partly_met\nNOT_MET: not_met', enum_type=StandardStatus, max_length=12)),
                ('note', fields.TextField(null=True, unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('updated_by', fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='standard_reviews', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'standard_review', 'app': 'models', 'unique_together': (('team', 'edition', 'number'),), 'pk_attr': 'id', 'table_description': "A team's mark against one standard (domain/standards.py holds the standards themselves,"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Survey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=200)),
                ('introduction', fields.TextField(null=True, unique=False)),
                ('audience', fields.CharEnumField(description='PATIENTS: patients\nCARERS: carers\nREPRESENTATIVES: representatives', enum_type=Audience, max_length=16)),
                ('stage', fields.CharEnumField(description='START: start\nEND: end\nASK: ask', enum_type=SurveyStage, max_length=8)),
                ('status', fields.CharEnumField(default=SurveyStatus.DRAFT, description='DRAFT: draft\nOPEN: open\nCLOSED: closed', enum_type=SurveyStatus, max_length=8)),
                ('link_token', fields.CharField(unique=True, max_length=40)),
                ('template_key', fields.CharField(null=True, max_length=40)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='surveys_created', on_delete=OnDelete.SET_NULL)),
                ('opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'survey', 'app': 'models', 'unique_together': (('team', 'title'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='StandardEvidence',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('review', fields.ForeignKeyField('models.StandardReview', source_field='review_id', db_constraint=True, to_field='id', related_name='evidence', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='ACTIVITY: activity\nACTION: action\nSURVEY: survey\nNOTE: note', enum_type=EvidenceKind, max_length=10)),
                ('activity', fields.ForeignKeyField('models.Activity', source_field='activity_id', null=True, db_constraint=True, to_field='id', related_name='standard_evidence', on_delete=OnDelete.CASCADE)),
                ('action', fields.ForeignKeyField('models.FeedbackAction', source_field='action_id', null=True, db_constraint=True, to_field='id', related_name='standard_evidence', on_delete=OnDelete.CASCADE)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', null=True, db_constraint=True, to_field='id', related_name='standard_evidence', on_delete=OnDelete.CASCADE)),
                ('note', fields.TextField(null=True, unique=False)),
                ('added_by', fields.ForeignKeyField('models.User', source_field='added_by_id', null=True, db_constraint=True, to_field='id', related_name='standard_evidence_added', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'standard_evidence', 'app': 'models', 'pk_attr': 'id', 'table_description': "One piece of evidence for a team's standard: exactly one of activity, action, survey or"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SurveyQuestion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='questions', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField()),
                ('kind', fields.CharEnumField(description='CHOICE: choice\nRATING: rating\nTEXT: text', enum_type=QuestionKind, max_length=8)),
                ('prompt', fields.CharField(max_length=300)),
                ('choices', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'survey_question', 'app': 'models', 'unique_together': (('survey', 'position'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SurveyResponse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='survey_responses', on_delete=OnDelete.CASCADE)),
                ('survey', fields.ForeignKeyField('models.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='responses', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', db_constraint=True, to_field='id', related_name='survey_responses', on_delete=OnDelete.CASCADE)),
                ('audience', fields.CharEnumField(description='PATIENTS: patients\nCARERS: carers\nREPRESENTATIVES: representatives', enum_type=Audience, max_length=16)),
                ('stage', fields.CharEnumField(null=True, description='START: start\nEND: end', enum_type=JourneyStage, max_length=8)),
                ('source', fields.CharEnumField(description='WEB: web\nPAPER: paper', enum_type=ResponseSource, max_length=8)),
                ('entered_by', fields.ForeignKeyField('models.User', source_field='entered_by_id', null=True, db_constraint=True, to_field='id', related_name='responses_entered', on_delete=OnDelete.SET_NULL)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('received_on', fields.DateField()),
                ('contact_encrypted', fields.TextField(null=True, unique=False)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reviewed_by', fields.ForeignKeyField('models.User', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name='responses_reviewed', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'survey_response', 'app': 'models', 'indexes': [Index(fields=['team_id', 'received_on']), Index(fields=['organisation_id', 'received_on'])], 'pk_attr': 'id', 'table_description': "One person's answers. Anonymous unless they chose to leave contact details, which are"},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ActionResponse',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('action', fields.ForeignKeyField('models.FeedbackAction', source_field='action_id', db_constraint=True, to_field='id', related_name='response_links', on_delete=OnDelete.CASCADE)),
                ('response', fields.ForeignKeyField('models.SurveyResponse', source_field='response_id', db_constraint=True, to_field='id', related_name='action_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'action_response', 'app': 'models', 'unique_together': (('action', 'response'),), 'pk_attr': 'id', 'table_description': 'Survey feedback an action answers.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ResponseTheme',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('response', fields.ForeignKeyField('models.SurveyResponse', source_field='response_id', db_constraint=True, to_field='id', related_name='themes', on_delete=OnDelete.CASCADE)),
                ('theme', fields.ForeignKeyField('models.FeedbackTheme', source_field='theme_id', db_constraint=True, to_field='id', related_name='responses', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'response_theme', 'app': 'models', 'unique_together': (('response', 'theme'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='SurveyAnswer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('response', fields.ForeignKeyField('models.SurveyResponse', source_field='response_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('question', fields.ForeignKeyField('models.SurveyQuestion', source_field='question_id', db_constraint=True, to_field='id', related_name='answers', on_delete=OnDelete.CASCADE)),
                ('choice', fields.CharField(null=True, max_length=200)),
                ('rating', fields.SmallIntField(null=True)),
                ('text', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'survey_answer', 'app': 'models', 'unique_together': (('response', 'question'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='Team',
            name='feedback_champion',
            field=fields.ForeignKeyField('models.User', source_field='feedback_champion_id', null=True, db_constraint=True, to_field='id', related_name='champion_of', on_delete=OnDelete.SET_NULL),
        ),
    ]
