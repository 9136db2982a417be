from tortoise import migrations
from tortoise.migrations import operations as ops
from coprod.models.pay import AttemptStatus, ClaimStatus, MoneyState
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0014_payroll')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Representative',
            name='stripe_transfers_active',
            field=fields.BooleanField(default=False),
        ),
        ops.AlterField(
            model_name='Claim',
            name='status',
            field=fields.CharEnumField(default=ClaimStatus.DRAFT, description='DRAFT: draft\nSUBMITTED: submitted\nAPPROVED: approved\nREJECTED: rejected\nPAID: paid\nFAILED: failed\nSENT_TO_PAYROLL: sent_to_payroll\nPAYMENT_PROBLEM: payment_problem', enum_type=ClaimStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Claim',
            name='money',
            field=fields.CharEnumField(default=MoneyState.NONE, description='NONE: none\nHELD: held\nTRANSFERRED: transferred\nPAID_OUT: paid_out\nPAYOUT_FAILED: payout_failed\nREVERSED: reversed', enum_type=MoneyState, max_length=16),
        ),
        ops.AddField(
            model_name='Claim',
            name='money_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Claim',
            name='money_changed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Claim',
            name='spend_counted',
            field=fields.BooleanField(default=False),
        ),
        # Until now a claim was costed when approved: those claims already count.
        ops.RunSQL(
            "UPDATE claim SET spend_counted = TRUE "
            "WHERE status IN ('approved', 'paid', 'failed', 'sent_to_payroll')",
            ops.RunSQL.noop,
        ),
        ops.AlterField(
            model_name='PaymentAttempt',
            name='status',
            field=fields.CharEnumField(default=AttemptStatus.PENDING, description='PENDING: pending\nSUCCEEDED: succeeded\nFAILED: failed\nHELD: held\nREVERSED: reversed', enum_type=AttemptStatus, max_length=10),
        ),
        ops.AddField(
            model_name='PaymentAttempt',
            name='tries',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='PaymentAttempt',
            name='destination_payment',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='PaymentAttempt',
            name='payout_id',
            field=fields.CharField(null=True, max_length=100),
        ),
    ]
