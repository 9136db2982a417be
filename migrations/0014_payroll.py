"""Payroll: National Insurance numbers (encrypted), team cost centres, organisation pay element
codes, and the payment date each payroll export carries."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0013_network_member_unique")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PayElement",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "models.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="pay_elements",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("key", fields.CharField(max_length=20)),
                ("code", fields.CharField(max_length=20)),
            ],
            options={
                "table": "pay_element",
                "app": "models",
                "unique_together": (("organisation", "key"),),
                "pk_attr": "id",
                "table_description": "An organisation's own payroll code for one pay element (the fee, or an expense type).",
            },
            bases=["TimestampedModel"],
        ),
        ops.AddField(
            model_name="Organisation",
            name="payroll_cost_centre",
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name="PayrollExport",
            name="file_encrypted",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="PayrollExport",
            name="payment_date",
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name="Representative",
            name="national_insurance_encrypted",
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name="Representative",
            name="national_insurance_masked",
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name="Team",
            name="cost_centre",
            field=fields.CharField(null=True, max_length=20),
        ),
    ]
