"""Demo data, so a newcomer can click through Coprod straight after `make run`."""

from __future__ import annotations

from coprod.models import Organisation, Role
from coprod.services import people
from coprod.services.actor import Actor

DEMO_PASSWORD = "demo-password-123"
DEMO_ORG = "Northshire Mental Health NHS Foundation Trust"
LEAD_EMAIL = "lead@northshire.example"
ADMIN_EMAIL = "admin@northshire.example"
FINANCE_EMAIL = "finance@northshire.example"
REPRESENTATIVES = [
    ("alex.patient@example.org", "Alex Morgan"),
    ("sam.carer@example.org", "Sam Okafor"),
]


async def seed_demo() -> list[str]:
    """Create the demo organisation and people, once. Returns lines to print."""
    actor = Actor.system(via="cli")
    if await Organisation.filter(name=DEMO_ORG).exists():
        return ["Demo data is already loaded."]
    org = await people.create_organisation(actor, DEMO_ORG)
    for team in ("Crisis Resolution and Home Treatment Team", "Community Mental Health Team East"):
        await people.create_team(actor, org, team)
    await people.create_user(
        actor,
        email=LEAD_EMAIL,
        full_name="Priya Shah",
        organisation=org,
        roles=[Role.INVOLVEMENT_LEAD, Role.REPORTER],
        password=DEMO_PASSWORD,
    )
    await people.create_user(
        actor,
        email=ADMIN_EMAIL,
        full_name="Jordan Lee",
        organisation=org,
        roles=[Role.ORG_ADMIN, Role.INVOLVEMENT_LEAD],
        password=DEMO_PASSWORD,
    )
    await people.create_user(
        actor,
        email=FINANCE_EMAIL,
        full_name="Chris Evans",
        organisation=org,
        roles=[Role.FINANCE_OFFICER],
        password=DEMO_PASSWORD,
    )
    for email, name in REPRESENTATIVES:
        await people.create_user(
            actor, email=email, full_name=name, organisation=org, roles=[Role.REPRESENTATIVE]
        )
    return [
        f"Demo organisation: {DEMO_ORG}",
        f"Staff sign in at /sign-in with password {DEMO_PASSWORD!r}:",
        f"  involvement lead  {LEAD_EMAIL}",
        f"  org admin + lead  {ADMIN_EMAIL}",
        f"  finance officer   {FINANCE_EMAIL}",
        "Representatives sign in by emailed link at /sign-in/link:",
        *(f"  {name:<17} {email}" for email, name in REPRESENTATIVES),
    ]
