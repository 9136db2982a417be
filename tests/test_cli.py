"""The command line: create-org, create-user, seed-demo, migrate, worker."""

from __future__ import annotations

import asyncio
import os
import sys

from coprod.demo import DEMO_ORG, LEAD_EMAIL, REPRESENTATIVES
from coprod.models import (
    ActivityFeedback,
    ConsentPurpose,
    Contract,
    CourseCompletion,
    Interest,
    Membership,
    Organisation,
    OutboxMessage,
    Representative,
    Role,
    User,
)
from coprod.models.feedback import ActionStatus, FeedbackAction
from coprod.services import contact, wellbeing


async def cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "coprod",
        *args,
        env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode()


async def test_create_org_and_user_from_the_command_line():
    code, out = await cli("create-org", "Westshire Partnership NHS Trust")
    assert code == 0, out
    org = await Organisation.get(name="Westshire Partnership NHS Trust")
    code, out = await cli(
        "create-user",
        "--org",
        org.slug,
        "--email",
        "Lead@West.example",
        "--name",
        "Lee Lead",
        "--role",
        "involvement_lead",
        "--role",
        "reporter",
    )
    assert code == 0, out
    user = await User.get(email="lead@west.example")
    roles = set(await Membership.filter(user=user).values_list("role", flat=True))
    assert roles == {Role.INVOLVEMENT_LEAD, Role.REPORTER}


async def test_bad_input_on_the_command_line_is_explained():
    code, out = await cli("create-org", "  ")
    assert code == 2
    assert "Enter the organisation's name" in out


async def test_seed_demo_loads_an_organisation_a_lead_and_two_representatives_once():
    code, out = await cli("seed-demo")
    assert code == 0, out
    assert LEAD_EMAIL in out
    org = await Organisation.get(name=DEMO_ORG)
    reps = await Membership.filter(organisation=org, role=Role.REPRESENTATIVE).count()
    leads = await Membership.filter(organisation=org, role=Role.INVOLVEMENT_LEAD).count()
    # The two who sign in by emailed link, Kemi, who signs in with a code by text, and Lena,
    # recruited through the demo's interest.
    assert reps == len(REPRESENTATIVES) + 2 == 4 and leads >= 1
    # Everyone in the demo agreed to be contacted, so the demo's emails go out.
    for rep in await Representative.filter(organisation=org):
        assert await contact.why_not_contactable(rep) in (None, "asked to be phoned")
        assert await wellbeing.has_consent(rep, ConsentPurpose.CONTACT), rep.full_name
    # Last week's listening event: Alex answered, Priya recorded Maureen's (to follow up).
    given = await ActivityFeedback.filter(organisation=org).order_by("id")
    assert [(f.listened_to.value, f.entered_by_id is not None) for f in given] == [
        ("yes", False),
        ("no", True),
    ]
    # "You said, we did": an action in each status, and Alex told of the done one.
    statuses = await FeedbackAction.filter(organisation=org).values_list("status", flat=True)
    assert set(statuses) == set(ActionStatus)
    assert await OutboxMessage.filter(notification="action_done").count() == 1
    assert "/you-said-we-did/" in out
    # Recruitment: someone at each step, one held as spam, Lena made a representative with a
    # contract, and Sam's training record with panel training done before.
    steps = await Interest.filter(organisation=org, held_as_spam=False).values_list(
        "full_name", "status"
    )
    assert {name: status.value for name, status in steps} == {
        "Aisha Rahman": "new",
        "Tom Bright": "chatted",
        "Grace Obi": "welcome_booked",
        "Lena Kowalski": "ready",
        "Mo Harris": "closed",
    }
    assert await Interest.filter(organisation=org, held_as_spam=True).count() == 1
    lena = await Representative.get(organisation=org, full_name="Lena Kowalski")
    assert await Contract.filter(representative=lena).count() == 1
    assert await CourseCompletion.filter(organisation=org).count() == 1
    assert f"/join/{org.slug}" in out
    code, out = await cli("seed-demo")
    assert code == 0 and "already loaded" in out
    assert await Organisation.filter(name=DEMO_ORG).count() == 1


async def test_migrate_is_idempotent():
    code, out = await cli("migrate")
    assert code == 0 and "up to date" in out
