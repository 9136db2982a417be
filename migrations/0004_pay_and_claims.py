from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.pay import AttemptStatus, ClaimStatus, LineKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_activities_and_bookings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PayrollExport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='payroll_exports', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='payroll_exports', on_delete=OnDelete.SET_NULL)),
                ('csv', fields.TextField(unique=False)),
                ('claim_count', fields.IntField()),
                ('reason', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'payroll_export', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Claim',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.CASCADE)),
                ('representative', fields.ForeignKeyField('models.Representative', source_field='representative_id', db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=ClaimStatus.DRAFT, description='DRAFT: draft\nSUBMITTED: submitted\nAPPROVED: approved\nREJECTED: rejected\nPAID: paid\nFAILED: failed\nSENT_TO_PAYROLL: sent_to_payroll', enum_type=ClaimStatus, max_length=16)),
                ('period_start', fields.DateField()),
                ('period_end', fields.DateField()),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', null=True, db_constraint=True, to_field='id', related_name='claims_submitted', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='claims_decided', on_delete=OnDelete.SET_NULL)),
                ('rejection_reason', fields.TextField(null=True, unique=False)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('payroll_export', fields.ForeignKeyField('models.PayrollExport', source_field='payroll_export_id', null=True, db_constraint=True, to_field='id', related_name='claims', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'claim', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='ClaimLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('claim', fields.ForeignKeyField('models.Claim', source_field='claim_id', db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='FEE: fee\nADJUSTMENT: adjustment', enum_type=LineKind, max_length=12)),
                ('day', fields.DateField(null=True)),
                ('minutes', fields.IntField(default=0)),
                ('band', fields.CharField(null=True, max_length=10)),
                ('amount_pence', fields.IntField()),
                ('description', fields.CharField(max_length=500)),
                ('needs_review', fields.BooleanField(default=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='claim_lines', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'claim_line', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A fee for one Europe/London day, or an adjustment (which may be negative).'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Expense',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('claim', fields.ForeignKeyField('models.Claim', source_field='claim_id', db_constraint=True, to_field='id', related_name='expenses', on_delete=OnDelete.CASCADE)),
                ('booking', fields.ForeignKeyField('models.Booking', source_field='booking_id', null=True, db_constraint=True, to_field='id', related_name='expenses', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharField(max_length=20)),
                ('day', fields.DateField()),
                ('description', fields.CharField(null=True, max_length=500)),
                ('miles_tenths', fields.IntField(null=True)),
                ('amount_pence', fields.IntField()),
                ('approved_pence', fields.IntField(null=True)),
                ('adjustment_reason', fields.TextField(null=True, unique=False)),
                ('agreed_beforehand', fields.BooleanField(default=False)),
                ('receipt_path', fields.CharField(null=True, max_length=300)),
                ('receipt_type', fields.CharField(null=True, max_length=30)),
                ('receipt_name', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'expense', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PaymentAttempt',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('claim', fields.ForeignKeyField('models.Claim', source_field='claim_id', db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.CASCADE)),
                ('idempotency_key', fields.CharField(max_length=100)),
                ('amount_pence', fields.IntField()),
                ('status', fields.CharEnumField(default=AttemptStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nFAILED: failed', enum_type=AttemptStatus, max_length=10)),
                ('transfer_id', fields.CharField(null=True, max_length=100)),
                ('failure_reason', fields.TextField(null=True, unique=False)),
                ('retryable', fields.BooleanField(default=False)),
                ('started_by', fields.ForeignKeyField('models.User', source_field='started_by_id', null=True, db_constraint=True, to_field='id', related_name='payment_attempts', on_delete=OnDelete.SET_NULL)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'payment_attempt', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One try at paying a claim through Stripe. Every try is kept, and the idempotency key comes'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='RateCard',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='rate_cards', on_delete=OnDelete.CASCADE)),
                ('effective_from', fields.DateField()),
                ('day_pence', fields.IntField()),
                ('half_day_pence', fields.IntField()),
                ('half_day_max_minutes', fields.IntField(default=240)),
                ('day_max_minutes', fields.IntField(default=480)),
            ],
            options={'table': 'rate_card', 'app': 'models', 'unique_together': (('organisation', 'effective_from'),), 'pk_attr': 'id', 'table_description': 'The rates from `effective_from` until the next card: an uplift never changes a past day.'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='StripeEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('event_id', fields.CharField(unique=True, max_length=100)),
                ('type', fields.CharField(max_length=100)),
            ],
            options={'table': 'stripe_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Webhook events already handled, so a replayed event does nothing twice.'},
            bases=['TimestampedModel'],
        ),
        ops.AddField(
            model_name='Booking',
            name='attendance_recorded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Booking',
            name='attended_minutes',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Booking',
            name='preparation_minutes',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Representative',
            name='earnings_limit_code',
            field=fields.CharField(null=True, max_length=50),
        ),
        ops.AddField(
            model_name='Representative',
            name='earnings_limit_pence',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Representative',
            name='earnings_limit_period',
            field=fields.CharField(null=True, max_length=5),
        ),
        ops.AddField(
            model_name='Representative',
            name='payout_method',
            field=fields.CharField(null=True, max_length=10),
        ),
        ops.AddField(
            model_name='Representative',
            name='payroll_reference',
            field=fields.CharField(null=True, max_length=50),
        ),
        ops.AddField(
            model_name='Representative',
            name='stripe_account_id',
            field=fields.CharField(null=True, unique=True, max_length=100),
        ),
        ops.AddField(
            model_name='Representative',
            name='stripe_payouts_enabled',
            field=fields.BooleanField(default=False),
        ),
    ]
