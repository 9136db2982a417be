"""An organisation of any size, with everything its pages show, built quickly.

`build(n)` makes one organisation with `n` representatives. Each has a contract, consents,
equality answers, access needs, catch-ups, bookings on several of a year's activities (past ones
attended, coming ones confirmed), involvement, a claim with a fee line, an expense and a payment,
wellbeing checks, poll invitations and answers, and outbox mail. Around them: projects, teams, a
rate card, a network with another member, population figures and a payroll export. The same code
builds every size, so two scenes differ only in `n`.

Staff and the one representative who signs in are made through the services, as people are;
the bulk of the rows go in with `bulk_create`, since a few hundred people made through service
calls would take minutes. Tests that prove behaviour should still build their state through the
services (STYLE.md 7): this is for measuring what pages cost at a size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from coprod import clock
from coprod.config import get_settings
from coprod.crypto import encrypt_json
from coprod.domain import standards
from coprod.domain.scheduling import LONDON
from coprod.domain.standards import EDITION
from coprod.models import (
    AccessArrangement,
    ActionStatus,
    Activity,
    ActivityFeedback,
    ActivityStatus,
    AcuteEpisode,
    Agreement,
    AttemptStatus,
    Audience,
    AuditEvent,
    Booking,
    BookingStatus,
    CatchUp,
    Category,
    Claim,
    ClaimLine,
    ClaimStatus,
    Consent,
    ConsentPurpose,
    Contract,
    Course,
    CourseCompletion,
    CoursePlace,
    EqualityResponse,
    Expense,
    FeeDay,
    FeedbackAction,
    Interest,
    InterestEquality,
    InterestSource,
    InterestStatus,
    Invitation,
    Involvement,
    JourneyStage,
    Kind,
    LineKind,
    Network,
    NetworkMember,
    NetworkMembership,
    NetworkRole,
    OptionAnswer,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    PaymentAttempt,
    PayrollExport,
    PopulationFigure,
    Project,
    RateCard,
    ReceivedText,
    Representative,
    RespectAcknowledgement,
    ResponseSource,
    Role,
    StandardReview,
    StandardStatus,
    Survey,
    SurveyResponse,
    SurveyStage,
    SurveyStatus,
    Team,
    TextOutcome,
    TimeOption,
    TranscriptionTask,
    User,
    WellbeingCheck,
    WellbeingOutcome,
)
from coprod.models.feedback import EvidenceKind, StandardEvidence
from coprod.models.org import MembershipStatus
from coprod.models.recruitment import Opportunity
from coprod.security import hash_secret, sign
from coprod.services import contracts as contract_services
from tests import feedback_rows, recruitment_rows

YEAR_OF_ACTIVITIES = 12  # one a month, from ten months ago to two months ahead
BOOKINGS_EACH = 4


@dataclass
class Scene:
    n: int
    second_lead_email: str  # decides claims the staff member made
    staff_email: str  # lead, administrator, finance officer and reporter at once
    representative_email: str  # the representative who signs in (representative 0)
    organisation_id: int
    staff: User
    representative_user: User
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON).astimezone(dt.UTC)


async def build(n: int, *, world: Any) -> Scene:
    """An organisation with `n` representatives (n >= 1), and the ids of one of each thing."""
    today = clock.today()
    org = await world.org(f"Scene of {n}")
    other = await world.org(f"Neighbour of {n}")
    staff_email, representative_email = f"staff{n}@trust.example", f"rep{n}@trust.example"
    staff = await world.user(
        org,
        staff_email,
        Role.INVOLVEMENT_LEAD,
        Role.ORG_ADMIN,
        Role.FINANCE_OFFICER,
        Role.REPORTER,
    )
    rep_user = await world.user(org, representative_email, Role.REPRESENTATIVE)
    second_lead_email = f"lead{n}@trust.example"
    await world.user(org, second_lead_email, Role.INVOLVEMENT_LEAD)

    teams = [
        Team(organisation=org, name=f"Team {t}", cost_centre="CC-1" if t == 0 else None)
        for t in range(2)
    ]
    await Team.bulk_create(teams)
    teams = list(await Team.filter(organisation=org).order_by("id"))
    await Project.bulk_create(
        [
            Project(
                organisation=org,
                name=f"Project {p}",
                respect_agreement="Listen, and be kind.",
                respect_agreement_required=p == 0,
            )
            for p in range(2)
        ]
    )
    projects = list(await Project.filter(organisation=org).order_by("id"))
    await RateCard.bulk_create(
        [
            RateCard(
                organisation=org,
                effective_from=today - dt.timedelta(days=400),
                day_pence=14000,
                half_day_pence=7000,
            ),
            RateCard(
                organisation=org,
                effective_from=today - dt.timedelta(days=100),
                day_pence=15000,
                half_day_pence=7500,
            ),
        ]
    )

    # A year of activities, a catch-up, and one still finding a time.
    months = [today + dt.timedelta(days=30 * (m - 10)) for m in range(YEAR_OF_ACTIVITIES)]
    await Activity.bulk_create(
        [
            Activity(
                organisation=org,
                project=projects[m % 2],
                team=teams[m % 2],
                lead=staff,
                title=f"Meeting {m}",
                category=list(Category)[m % len(Category)],
                kind=Kind.MEETING,
                status=ActivityStatus.SCHEDULED,
                starts_at=_at(day),
                duration_minutes=180,
                preparation_minutes=30,
                capacity=n + 10,
                video=True,
                video_link="https://meet.example/x",
                phone=True,
                dial_in="01632 960 100",
            )
            for m, day in enumerate(months)
        ]
        + [
            Activity(
                organisation=org,
                lead=staff,
                title="Catch-up",
                kind=Kind.CATCH_UP,
                status=ActivityStatus.SCHEDULED,
                starts_at=_at(today - dt.timedelta(days=40), 14),
                duration_minutes=60,
                capacity=n + 10,
                phone=True,
                dial_in="01632 960 100",
            ),
            Activity(
                organisation=org,
                project=projects[0],
                lead=staff,
                title="Finding a time",
                kind=Kind.MEETING,
                status=ActivityStatus.PLANNING,
                duration_minutes=120,
                capacity=n + 10,
                poll_deadline=_at(today + dt.timedelta(days=10)),
                phone=True,
                dial_in="01632 960 100",
            ),
        ]
    )
    activities = list(await Activity.filter(organisation=org).order_by("id"))
    meetings, catch_up, planning = activities[:-2], activities[-2], activities[-1]
    await TimeOption.bulk_create(
        [
            TimeOption(activity=planning, starts_at=_at(today + dt.timedelta(days=20 + d)))
            for d in range(3)
        ]
    )
    options = list(await TimeOption.filter(activity=planning).order_by("id"))

    # Half of those paid through payroll have a National Insurance number: the rest wait.
    ni_number = encrypt_json({"number": "AB123456C"})
    await Representative.bulk_create(
        [
            Representative(
                organisation=org,
                user=rep_user if i == 0 else None,
                lead=staff,
                full_name=f"Person {i:04d}",
                representative_type="patient" if i % 2 else "carer",
                email=None if i % 5 == 4 else f"person{i}@example.org",
                phone="01632 960 000",
                contact_channels=["email", "phone"],
                formats=["large_print"] if i % 3 == 0 else [],
                needs_transport=i % 7 == 0,
                preferred_modes=["video"],
                calendar_token=f"feed-{n}-{i}",
                # Approved claims (i % 4 == 1) are half paid through payroll, half by Stripe.
                payout_method="payroll" if i % 8 == 1 else "stripe",
                payroll_reference=f"P{i:05d}" if i % 8 == 1 else None,
                national_insurance_encrypted=ni_number if i % 16 == 1 else None,
                national_insurance_masked="•• •• •• 56 C" if i % 16 == 1 else None,
                earnings_limit_pence=20000 if i % 4 == 0 else None,
                earnings_limit_period="week" if i % 4 == 0 else None,
            )
            for i in range(n)
        ]
    )
    reps = list(await Representative.filter(organisation=org).order_by("id"))

    await Contract.bulk_create(
        [
            Contract(
                organisation=org,
                representative=rep,
                role_title="Patient representative",
                starts_on=today - dt.timedelta(days=300),
                ends_on=today + dt.timedelta(days=65),
            )
            for rep in reps
        ]
    )
    contracts = list(await Contract.filter(organisation=org).order_by("id"))
    await CatchUp.bulk_create(
        [
            CatchUp(contract=c, held_on=today - dt.timedelta(days=250))
            for i, c in enumerate(contracts)
            if i % 2 == 0
        ]
    )
    await contract_services.refresh_next_catch_ups(contracts)
    await Consent.bulk_create(
        [
            Consent(
                representative=rep,
                purpose=purpose,
                given_on=today - dt.timedelta(days=300),
                # Some due for review within a month, some later, none lapsed.
                review_on=today + dt.timedelta(days=1 + (i * 7) % 90),
                withdrawn_on=today - dt.timedelta(days=3)
                if purpose == ConsentPurpose.CONTACT and i % 9 == 8
                else None,
                recorded_by=staff,
            )
            for i, rep in enumerate(reps)
            for purpose in ConsentPurpose
        ]
    )
    await EqualityResponse.bulk_create(
        [
            EqualityResponse(
                representative=rep,
                age_band="prefer_not_to_say" if i % 2 else "35_44",
                sex="female" if i % 2 else "male",
                ethnicity="prefer_not_to_say",
            )
            for i, rep in enumerate(reps)
        ]
    )
    await AcuteEpisode.bulk_create(
        [
            AcuteEpisode(
                representative=rep,
                payload=encrypt_json(
                    {
                        "started_on": (today - dt.timedelta(days=60)).isoformat(),
                        "ended_on": (today - dt.timedelta(days=20)).isoformat(),
                        "under_crisis_team": True,
                        "note": "Home treatment team",
                    }
                ),
            )
            for i, rep in enumerate(reps)
            if i % 10 == 0
        ]
    )

    # Bookings: each person on BOOKINGS_EACH of the year's meetings, and some on the catch-up.
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i, rep in enumerate(reps):
        for k in range(BOOKINGS_EACH):
            activity = meetings[(i + 3 * k + 2) % len(meetings)]
            assert activity.starts_at is not None
            past = activity.starts_at < now
            if past:
                status = BookingStatus.ATTENDED
            elif i % 10 == 0:
                status = BookingStatus.NEEDS_WELLBEING_CHECK
            else:
                status = BookingStatus.CONFIRMED
            rows.append(
                Booking(
                    activity=activity,
                    representative=rep,
                    status=status,
                    mode="video",
                    uid=f"scene-{n}-{i}-{k}@coprod",
                    starts_at=activity.starts_at,
                    ends_at=activity.starts_at + dt.timedelta(minutes=180),
                    confirmed_at=now,
                    attended_minutes=180 if past else None,
                    preparation_minutes=30 if past else None,
                    attendance_recorded_at=activity.starts_at if past else None,
                )
            )
        if i % 3 == 0:
            assert catch_up.starts_at is not None
            rows.append(
                Booking(
                    activity=catch_up,
                    representative=rep,
                    status=BookingStatus.ATTENDED,
                    mode="phone",
                    uid=f"scene-{n}-{i}-catch-up@coprod",
                    starts_at=catch_up.starts_at,
                    ends_at=catch_up.starts_at + dt.timedelta(minutes=60),
                    attended_minutes=60,
                    preparation_minutes=0,
                    attendance_recorded_at=catch_up.starts_at,
                )
            )
    await Booking.bulk_create(rows)
    bookings = list(
        await Booking.filter(activity__organisation_id=org.id)
        .order_by("id")
        .prefetch_related("activity")
    )
    formats = {rep.id for i, rep in enumerate(reps) if i % 3 == 0}
    await AccessArrangement.bulk_create(
        [
            AccessArrangement(
                booking=b,
                kind="large_print",
                label="Large print papers posted",
                due_on=london_day(b.starts_at) - dt.timedelta(days=7),
                done_at=b.starts_at - dt.timedelta(days=8) if b.starts_at < now else None,
                done_on_time=b.starts_at < now,
            )
            for b in bookings
            if b.representative_id in formats and b.activity.kind == Kind.MEETING
        ]
    )
    await WellbeingCheck.bulk_create(
        [
            WellbeingCheck(
                booking=b,
                outcome=WellbeingOutcome.PROCEED,
                payload=encrypt_json({"note": "Talked it over", "representative_wish": "Go"}),
                recorded_by=staff,
            )
            for b in bookings
            if b.status == BookingStatus.ATTENDED and b.representative_id % 10 == 0
        ]
    )
    by_id = {rep.id: rep for rep in reps}
    attended = [b for b in bookings if b.status == BookingStatus.ATTENDED]
    await Involvement.bulk_create(
        [
            Involvement(
                organisation=org,
                booking_id=b.id,
                activity_id=b.activity_id,
                project_id=b.activity.project_id,
                team_id=b.activity.team_id,
                representative_id=b.representative_id,
                representative_type=by_id[b.representative_id].representative_type,
                category=b.activity.category,
                kind=b.activity.kind,
                mode=b.mode,
                day=london_day(b.starts_at),
                minutes=(b.attended_minutes or 0) + (b.preparation_minutes or 0),
                fee_pence=7500,
                expenses_pence=450,
            )
            for b in attended
        ]
    )

    # A claim each, for their latest meeting attended: draft, submitted, approved or paid.
    latest: dict[int, Booking] = {}
    for b in attended:
        if b.activity.kind == Kind.MEETING:
            latest[b.representative_id] = b
    # Paid first, so that even three people have a paid, an approved and a submitted claim.
    statuses = [ClaimStatus.PAID, ClaimStatus.APPROVED, ClaimStatus.SUBMITTED, ClaimStatus.DRAFT]
    claimed = [(i, rep, latest[rep.id]) for i, rep in enumerate(reps) if rep.id in latest]
    await Claim.bulk_create(
        [
            Claim(
                organisation=org,
                representative=rep,
                status=statuses[i % 4],
                period_start=london_day(b.starts_at).replace(day=1),
                period_end=london_day(b.starts_at),
                submitted_at=now if i % 4 != 3 else None,
                submitted_by=staff if i % 4 != 3 else None,
                decided_at=now if i % 4 <= 1 else None,
                decided_by=staff if i % 4 <= 1 else None,
                paid_at=now if i % 4 == 0 else None,
            )
            for i, rep, b in claimed
        ]
    )
    claims = list(await Claim.filter(organisation=org).order_by("id"))
    pairs = list(zip(claims, [b for _, _, b in claimed], strict=True))
    await ClaimLine.bulk_create(
        [
            ClaimLine(
                claim=c,
                kind=LineKind.FEE,
                day=london_day(b.starts_at),
                minutes=210,
                band="half",
                amount_pence=7500,
                description="Half day",
            )
            for c, b in pairs
        ]
    )
    await FeeDay.bulk_create(
        [
            FeeDay(
                organisation=org,
                representative_id=c.representative_id,
                day=london_day(b.starts_at),
                claim=c,
            )
            for c, b in pairs
        ]
    )
    await Expense.bulk_create(
        [
            Expense(
                claim=c,
                booking=b,
                kind="mileage",
                day=london_day(b.starts_at),
                miles_tenths=100,
                amount_pence=450,
                approved_pence=450 if c.status != ClaimStatus.DRAFT else None,
            )
            for c, b in pairs
        ]
    )
    await PaymentAttempt.bulk_create(
        [
            PaymentAttempt(
                claim=c,
                idempotency_key=f"claim-{c.id}",
                amount_pence=7950,
                status=AttemptStatus.SUCCEEDED,
                transfer_id=f"tr_{c.id}",
                started_by=staff,
            )
            for c in claims
            if c.status == ClaimStatus.PAID
        ]
    )
    await PayrollExport.create(organisation=org, created_by=staff, csv="a,b\n", claim_count=0)

    # Everyone invited to find a time; half have answered.
    await Invitation.bulk_create(
        [
            Invitation(
                activity=planning,
                representative=rep,
                token_hash=hash_secret(f"answer-{n}-{i}"),
                answered_at=now if i % 2 == 0 else None,
                mode="video" if i % 2 == 0 else None,
            )
            for i, rep in enumerate(reps)
        ]
    )
    invitations = list(await Invitation.filter(activity=planning).order_by("id"))
    await OptionAnswer.bulk_create(
        [
            OptionAnswer(invitation=inv, option=o, answer=("yes", "if_need_be", "no")[(i + j) % 3])
            for i, inv in enumerate(invitations)
            if i % 2 == 0
            for j, o in enumerate(options)
        ]
    )
    # Texts people sent that need a call: unclear answers, one number two people share (the
    # last two), replies with nothing open; every fourth already dealt with.
    shared_mobile = "07700 800000"
    await Representative.filter(id__in=[r.id for r in reps[-2:]]).update(
        mobile=shared_mobile, mobile_normalised="447700800000"
    )
    outcomes = (TextOutcome.UNCLEAR, TextOutcome.SHARED_NUMBER, TextOutcome.NOTHING_OPEN)
    await ReceivedText.bulk_create(
        [
            ReceivedText(
                notify_id=f"scene-{n}-{i}",
                organisation=org,
                representative=None if outcomes[i % 3] == TextOutcome.SHARED_NUMBER else rep,
                invitation=invitations[i] if i % 3 == 0 else None,
                from_number="447700800000" if i % 3 == 1 else f"4477009{i:05d}",
                message="1 yes 2 only in the morning",
                received_at=now - dt.timedelta(minutes=i),
                outcome=outcomes[i % 3],
                problem='The reply had words we could not read: "only"' if i % 3 == 0 else None,
                dealt_with_at=now if i % 4 == 3 else None,
                dealt_with_by=staff if i % 4 == 3 else None,
            )
            for i, rep in enumerate(reps)
        ]
    )
    received_text = await ReceivedText.get(notify_id=f"scene-{n}-0")
    await RespectAcknowledgement.bulk_create(
        [RespectAcknowledgement(project=projects[0], representative=rep) for rep in reps]
    )
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                organisation=org,
                representative=rep,
                notification="booking_confirmed",
                to_address=rep.email or "nobody@example.org",
                subject="Your booking",
                text_body="Hello",
                html_body="<p>Hello</p>",
                message_id=f"<scene-{n}-{i}@coprod>",
                status=OutboxStatus.FAILED if i % 4 == 0 else OutboxStatus.SENT,
                next_attempt_at=now,
            )
            for i, rep in enumerate(reps)
        ]
        # A text and a letter each, through GOV.UK Notify: some texts did not arrive, and the
        # letters of people who read Braille are to be transcribed.
        + [
            OutboxMessage(
                organisation=org,
                representative=rep,
                notification="booking_updated",
                kind="text",
                to_address="07700 900123",
                subject="Your booking changed",
                text_body="Your booking changed",
                html_body="",
                message_id=f"<scene-{n}-{i}-text@coprod>",
                status=OutboxStatus.SENT,
                next_attempt_at=now,
                provider_id=f"scene-{n}-{i}-text",
                delivery_status="permanent-failure" if i % 5 == 0 else "delivered",
            )
            for i, rep in enumerate(reps)
        ]
        + [
            OutboxMessage(
                organisation=org,
                representative=rep,
                notification="remittance",
                kind="letter",
                to_address=rep.full_name,
                postal_address="1 High Street\nLeeds\nLS1 1AA",
                letter_variant="standard",
                subject="Payment made",
                text_body="We have paid you.",
                html_body="",
                message_id=f"<scene-{n}-{i}-letter@coprod>",
                status=OutboxStatus.SENT,
                next_attempt_at=now,
                provider_id=f"scene-{n}-{i}-letter",
                delivery_status="received",
            )
            for i, rep in enumerate(reps)
        ]
    )
    letters = list(
        await OutboxMessage.filter(organisation=org, kind="letter").order_by("id").only("id")
    )
    await TranscriptionTask.bulk_create(
        [
            TranscriptionTask(
                organisation=org,
                representative=rep,
                message_id=letter.id,
                format="braille",
                label="Braille copy of the letter sent",
                due_on=today + dt.timedelta(days=i % 5 - 2),
            )
            for i, (rep, letter) in enumerate(zip(reps, letters, strict=True))
            if i % 2 == 0
        ]
    )
    await AuditEvent.bulk_create(
        [
            AuditEvent(
                organisation=org,
                actor=staff,
                actor_label=staff_email,
                action="representative.create",
                entity_type="Representative",
                entity_id=str(rep.id),
            )
            for rep in reps
        ]
    )
    await PopulationFigure.bulk_create(
        [
            PopulationFigure(organisation=org, characteristic="sex", group=g, percent_tenths=500)
            for g in ("female", "male")
        ]
    )
    network = await Network.create(name=f"Network of {n}", host_organisation=org)
    await NetworkMembership.bulk_create(
        [
            NetworkMembership(
                network=network, organisation=o, status=MembershipStatus.ACCEPTED, responded_at=now
            )
            for o in (org, other)
        ]
    )
    await NetworkMember.create(user=staff, network=network, role=NetworkRole.NETWORK_ADMIN)
    # Two networks of the neighbour's that have invited this organisation, to accept and decline.
    invited = [
        await Network.create(name=f"{word} network of {n}", host_organisation=other)
        for word in ("First", "Second")
    ]
    await NetworkMembership.bulk_create(
        [
            NetworkMembership(network=x, organisation=o, status=status)
            for x in invited
            for o, status in ((other, MembershipStatus.ACCEPTED), (org, MembershipStatus.INVITED))
        ]
    )

    await _standards_review(org, teams[0], meetings[0], staff)
    surveys = await _surveys(org, teams[0], staff, n)
    feedback_id = await _feedback_loop(org, teams, reps, attended, today)
    interest_ids = await _interests(org, n)
    opportunities = await _opportunities(org, other, n)

    course_ids = await _courses(org, teams[0], reps, staff, n)

    mine = [b for b in bookings if b.representative_id == reps[0].id]
    coming = next(b for b in mine if b.starts_at > now)
    past = next(b for b in mine if b.status == BookingStatus.ATTENDED)
    arrangement = await AccessArrangement.get(booking=coming)
    failed = await OutboxMessage.filter(organisation=org, status=OutboxStatus.FAILED).first()
    assert failed is not None
    failed_text = await OutboxMessage.get(representative=reps[0], kind="text")
    letter = await OutboxMessage.get(representative=reps[0], kind="letter")
    my_claim = next(c for c in claims if c.representative_id == reps[0].id)
    episode = await AcuteEpisode.filter(representative=reps[0]).first()
    assert episode is not None
    return Scene(
        n=n,
        second_lead_email=second_lead_email,
        staff_email=staff_email,
        representative_email=representative_email,
        organisation_id=org.id,
        staff=staff,
        representative_user=rep_user,
        ids={
            "representative": reps[0].id,
            "other_rep": reps[1].id,  # not booked on "activity"
            "past_booking": past.id,
            # Past, with a share of everyone's attendance: its corrections move involvement.
            "past_activity": past.activity_id,
            "arrangement": arrangement.id,
            "outbox_failed": failed.id,
            "failed_text": failed_text.id,  # not delivered: on the call list
            "letter": letter.id,
            "transcription": (await TranscriptionTask.get(message=letter)).id,
            "submitted_claim": next(c.id for c in claims if c.status == ClaimStatus.SUBMITTED),
            "invited_network": invited[0].id,
            "declining_network": invited[1].id,
            "neighbour": other.id,
            "contract": contracts[0].id,
            "episode": episode.id,
            "project": projects[0].id,
            "activity": meetings[-1].id,  # coming, with about n / 3 booked
            "planning": planning.id,
            "option": options[0].id,
            "option2": options[1].id,
            "option3": options[2].id,
            "invitation": invitations[0].id,
            "booking": coming.id,
            "claim": my_claim.id,
            "expense": (await Expense.get(claim=my_claim)).id,
            "network": network.id,
            "payroll_export": (await PayrollExport.get(organisation=org)).id,
            "team": teams[0].id,
            "other_team": teams[1].id,  # not past_activity's
            "organisation": org.id,
            "received_text": received_text.id,
            "standard": STANDARD,
            **surveys.ids,
            **interest_ids,
            **course_ids,
            "activity_feedback": feedback_id,  # someone who did not feel listened to
            **opportunities,
            # "You said, we did": the staff member champions team 0.
            **await feedback_rows.scene_feedback(org.id, teams[0].id, staff.id, meetings[-1].id),
            **await recruitment_rows.scene_recruitment(
                org.id, teams[0].id, [r.id for r in reps], today
            ),
        },
        tokens={
            "calendar": reps[0].calendar_token or "",
            "answer": f"answer-{n}-0",
            "survey_link": surveys.link,
            "interest_equality": f"interest-equality-{n}",
            "org_slug": org.slug,
            "tech_test": f"{coming.id}." + sign(get_settings().secret_key, "tech-test", coming.uid),
        },
    )


async def _courses(
    org: Any, team: Team, reps: list[Representative], staff: User, n: int
) -> dict[str, int]:
    """Courses: induction (everyone has done it, and is booked on a coming session, some in a
    format it lacks) and panel training, which the scene's meetings ask for so that the activity
    pages weigh everyone's training; and training everyone delivered to a team's staff."""
    today = clock.today()
    now = dt.datetime.now(dt.UTC)
    induction = await Course.create(
        organisation=org, name="Induction", formats=["audio", "easy_read"], required_for=[]
    )
    panel = await Course.create(
        organisation=org,
        name="Recruitment-panel training",
        formats=["translated"],
        languages=["Polish"],
        required_for=["interview_panel", "meeting"],
    )
    session = await Activity.create(
        organisation=org,
        lead=staff,
        title="Induction session",
        kind=Kind.TRAINING_RECEIVED,
        course=induction,
        status=ActivityStatus.SCHEDULED,
        starts_at=_at(today + dt.timedelta(days=15)),
        duration_minutes=120,
        capacity=n + 10,
        phone=True,
        dial_in="01632 960 100",
    )
    delivery = await Activity.create(
        organisation=org,
        team=team,
        lead=staff,
        title="Recovery stories for ward staff",
        kind=Kind.TRAINING_DELIVERY,
        category=Category.CO_DELIVERY,
        audience="Ward nurses",
        status=ActivityStatus.SCHEDULED,
        starts_at=_at(today - dt.timedelta(days=12)),
        duration_minutes=120,
        capacity=n + 10,
        phone=True,
        dial_in="01632 960 100",
    )
    for activity, status in (
        (session, BookingStatus.CONFIRMED),
        (delivery, BookingStatus.ATTENDED),
    ):
        assert activity.starts_at is not None
        await Booking.bulk_create(
            [
                Booking(
                    activity=activity,
                    representative=rep,
                    status=status,
                    mode="phone",
                    uid=f"scene-{n}-{i}-{activity.kind.value}@coprod",
                    starts_at=activity.starts_at,
                    ends_at=activity.starts_at + dt.timedelta(minutes=120),
                    confirmed_at=now,
                    attended_minutes=120 if status == BookingStatus.ATTENDED else None,
                    attendance_recorded_at=now if status == BookingStatus.ATTENDED else None,
                )
                for i, rep in enumerate(reps)
                # Not the first person, whose contract a write ends before the session.
                if i > 0 or status == BookingStatus.ATTENDED
            ]
        )
    places = list(await Booking.filter(activity=session).order_by("id"))
    await CoursePlace.bulk_create(
        [
            CoursePlace(booking=b, format="braille" if i % 3 == 0 else "standard")
            for i, b in enumerate(places)
        ]
    )
    await AccessArrangement.bulk_create(
        [
            AccessArrangement(
                booking=b,
                kind="course_materials",
                label="Course materials made in Braille",
                due_on=today + dt.timedelta(days=1),
            )
            for i, b in enumerate(places)
            if i % 3 == 0
        ]
    )
    await CourseCompletion.bulk_create(
        [
            CourseCompletion(
                organisation=org,
                representative=rep,
                course=course,
                completed_on=today - dt.timedelta(days=100 + i % 50),
                format="easy_read" if i % 4 == 0 else "standard",
                recorded_by=staff,
            )
            for i, rep in enumerate(reps)
            for course in ((induction, panel) if i % 2 == 0 else (induction,))
        ]
    )
    return {"course": induction.id, "course_session": session.id, "course_booking": places[0].id}


async def _opportunities(org: Any, other: Any, n: int) -> dict[str, int]:
    """An open opportunity at each network member, one with interest from n people, a draft
    and a withdrawn one: the lead's list counts interest, the public pages show the open."""
    now = dt.datetime.now(dt.UTC)
    common = {
        "involves": "Interviewing candidates with the panel",
        "time_commitment": "Half a day a month",
        "pay": "£70 for half a day",
        "modes": ["in_person", "video"],
        "accessibility": "Step-free rooms and a hearing loop",
    }
    panel = await Opportunity.create(
        organisation=org, title="Interview panel member", published_at=now, **common
    )
    await Opportunity.create(organisation=org, title="Advisory group member", **common)
    await Opportunity.create(
        organisation=org, title="Governor", published_at=now, withdrawn_at=now, **common
    )
    await Opportunity.create(
        organisation=other, title="Neighbour's panel member", published_at=now, **common
    )
    await Interest.bulk_create(
        [
            Interest(
                organisation=org,
                opportunity=panel,
                source=InterestSource.ONLINE,
                full_name=f"Interested person {i}",
            )
            for i in range(n)
        ]
    )
    return {"opportunity": panel.id}


async def _interests(org: Any, n: int) -> dict[str, int]:
    """n people's interest spread over the steps, some held as possible spam, some with
    equality answers; and one whose thanks-page link to the equality questions is unused."""
    statuses = [
        InterestStatus.NEW,
        InterestStatus.CHATTED,
        InterestStatus.WELCOME_BOOKED,
        InterestStatus.READY,
        InterestStatus.CLOSED,
    ]
    await Interest.bulk_create(
        [
            Interest(
                organisation=org,
                source=InterestSource.ONLINE if i % 2 else InterestSource.PHONE,
                full_name=f"Interested {i}",
                phone="0113 496 0000",
                contact_channels=["phone"],
                status=statuses[i % len(statuses)],
                held_as_spam=i % 7 in (5, 6),
                held_reason="A field hidden from people was filled in" if i % 7 in (5, 6) else None,
            )
            for i in range(n + 7)
        ]
    )
    rows = await Interest.filter(organisation=org).order_by("id")
    await InterestEquality.bulk_create(
        [InterestEquality(interest=row, age_band="16_24") for row in rows[::3]]
    )
    wanting = await Interest.create(
        organisation=org,
        source=InterestSource.ONLINE,
        full_name="Fresh from the form",
        email=f"fresh-{n}@example.com",
        contact_channels=["email"],
        equality_token_hash=hash_secret(f"interest-equality-{n}"),
    )

    def first(status: InterestStatus, held: bool = False) -> int:
        return next(r.id for r in rows if r.status == status and r.held_as_spam == held)

    held = [r.id for r in rows if r.held_as_spam]
    return {
        "interest": wanting.id,
        "interest_chatted": first(InterestStatus.CHATTED),
        "interest_welcomed": first(InterestStatus.WELCOME_BOOKED),
        "held_interest": held[0],
        "held_interest2": held[1],
    }


STANDARD = 14  # marked in the scene, with co-design meetings to suggest


async def _standards_review(org: Any, team: Team, meeting: Activity, staff: User) -> None:
    """The first team's self-review: a dozen standards marked, and evidence of every kind on
    STANDARD (a meeting, a survey, an action and a note)."""
    statuses = (StandardStatus.MET, StandardStatus.PARTLY_MET, StandardStatus.NOT_MET)
    numbers = [1, 4, STANDARD, 20, 46, 47, 54, 63, 119, 153, 155, 171]
    await StandardReview.bulk_create(
        [
            StandardReview(
                organisation=org,
                team=team,
                edition=EDITION,
                number=number,
                status=statuses[i % 3],
                note="Checked at the team meeting",
                updated_by=staff,
            )
            for i, number in enumerate(numbers)
        ]
    )
    review = await StandardReview.get(team=team, number=STANDARD)
    survey = await Survey.create(
        organisation=org,
        team=team,
        title="Standards scene survey",
        audience=Audience.PATIENTS,
        stage=SurveyStage.START,
        link_token=f"standards-scene-{team.id}",
    )
    action = await FeedbackAction.create(
        organisation=org,
        team=team,
        you_said="Evening meetings are hard",
        we_did="We moved them to the afternoon",
        status=ActionStatus.DONE,
    )
    await StandardEvidence.bulk_create(
        [
            StandardEvidence(review=review, kind=EvidenceKind.ACTIVITY, activity=meeting),
            StandardEvidence(review=review, kind=EvidenceKind.SURVEY, survey=survey),
            StandardEvidence(review=review, kind=EvidenceKind.ACTION, action=action),
            StandardEvidence(review=review, kind=EvidenceKind.NOTE, note="Minutes kept"),
        ]
    )


@dataclass
class _Surveys:
    ids: dict[str, int]
    link: str


async def _surveys(org: Any, team: Team, staff: User, n: int) -> _Surveys:
    """An open patient survey with n answers (a third on paper, some leaving contact details),
    and a draft survey with two questions to change."""
    from coprod.models.feedback import (
        Audience,
        JourneyStage,
        QuestionKind,
        ResponseSource,
        Survey,
        SurveyAnswer,
        SurveyQuestion,
        SurveyResponse,
        SurveyStage,
        SurveyStatus,
    )

    now = dt.datetime.now(dt.UTC)
    open_survey = await Survey.create(
        organisation=org,
        team=team,
        title="Starting with us",
        audience=Audience.PATIENTS,
        stage=SurveyStage.ASK,
        status=SurveyStatus.OPEN,
        link_token=f"survey-{n}",
        opened_at=now,
    )
    draft = await Survey.create(
        organisation=org,
        team=team,
        title="A draft",
        audience=Audience.CARERS,
        stage=SurveyStage.START,
        link_token=f"draft-{n}",
    )
    rating, choice, words = [
        await SurveyQuestion.create(
            survey=open_survey, position=p, kind=kind, prompt=f"Question {p}", choices=choices
        )
        for p, kind, choices in (
            (1, QuestionKind.RATING, None),
            (2, QuestionKind.CHOICE, ["Yes", "No"]),
            (3, QuestionKind.TEXT, None),
        )
    ]
    drafts = [
        await SurveyQuestion.create(
            survey=draft, position=p, kind=QuestionKind.TEXT, prompt=f"D{p}"
        )
        for p in (1, 2)
    ]
    await SurveyResponse.bulk_create(
        [
            SurveyResponse(
                organisation=org,
                survey=open_survey,
                team=team,
                audience=Audience.PATIENTS,
                stage=(JourneyStage.START, JourneyStage.END, None)[m % 3],
                source=ResponseSource.PAPER if m % 3 == 0 else ResponseSource.WEB,
                entered_by=staff if m % 3 == 0 else None,
                received_at=now,
                received_on=clock.today(),
                contact_encrypted=encrypt_json({"name": f"P{m}", "how": "x"})
                if m % 4 == 0
                else None,
            )
            for m in range(n)
        ]
    )
    responses = await SurveyResponse.filter(survey=open_survey)
    await SurveyAnswer.bulk_create(
        [
            SurveyAnswer(response=r, question=q, **value)
            for i, r in enumerate(responses)
            for q, value in (
                (rating, {"rating": 1 + i % 5}),
                (choice, {"choice": ("Yes", "No")[i % 2]}),
                (words, {"text": f"Said {i}"}),
            )
        ]
    )
    return _Surveys(
        ids={
            "survey": open_survey.id,
            "question": rating.id,
            "draft_survey": draft.id,
            "draft_question": drafts[0].id,
            "draft_question2": drafts[1].id,
        },
        link=open_survey.link_token,
    )


async def _feedback_loop(
    org: Organisation,
    teams: list[Team],
    reps: list[Representative],
    attended: list[Booking],
    today: dt.date,
) -> int:
    """Feedback on attended meetings (not the signed-in representative's, who gives theirs in
    the tests), survey answers, "You said, we did" actions and standards marks for each team:
    what the activity pages and the report count. Returns one answer to follow up."""
    now = dt.datetime.now(dt.UTC)
    answers = ("yes", "yes", "partly", "no")
    await ActivityFeedback.bulk_create(
        [
            ActivityFeedback(
                organisation=org,
                activity_id=b.activity_id,
                representative_id=b.representative_id,
                booking_id=b.id,
                rating=1 + i % 5,
                listened_to=Agreement(answers[i % 4]),
                access_met=Agreement(answers[(i + 1) % 4]) if i % 3 else None,
                comments="It was good to be asked" if i % 2 else None,
                submitted_at=b.starts_at + dt.timedelta(days=1),
            )
            for i, b in enumerate(attended)
            if b.representative_id != reps[0].id and b.activity.kind == Kind.MEETING
        ]
    )
    flagged = await ActivityFeedback.filter(organisation=org, listened_to=Agreement.NO).first()
    assert flagged is not None
    for t, team in enumerate(teams):
        survey = await Survey.create(
            organisation=org,
            team=team,
            title="How was your care?",
            audience=Audience.PATIENTS if t == 0 else Audience.CARERS,
            stage=SurveyStage.ASK,
            status=SurveyStatus.OPEN,
            link_token=f"scene-{org.id}-{t}",
        )
        await SurveyResponse.bulk_create(
            [
                SurveyResponse(
                    organisation=org,
                    survey=survey,
                    team=team,
                    audience=survey.audience,
                    stage=(JourneyStage.START, JourneyStage.END, None)[i % 3],
                    source=ResponseSource.PAPER if i % 4 == 0 else ResponseSource.WEB,
                    received_at=now - dt.timedelta(days=i % 90),
                    received_on=today - dt.timedelta(days=i % 90),
                )
                for i in range(len(reps))
            ]
        )
        statuses = list(ActionStatus)
        await FeedbackAction.bulk_create(
            [
                FeedbackAction(
                    organisation=org,
                    team=team,
                    you_said=f"You said {i}",
                    we_did=f"We did {i}",
                    status=statuses[i % 4],
                    not_possible_reason="No budget" if statuses[i % 4] == "not_possible" else None,
                    done_on=today - dt.timedelta(days=i % 30)
                    if statuses[i % 4] == ActionStatus.DONE
                    else None,
                )
                for i in range(len(reps))
            ]
        )
        marks = list(StandardStatus)
        # The first team's self-review (_standards_review) already marks some.
        marked = set(await StandardReview.filter(team=team).values_list("number", flat=True))
        await StandardReview.bulk_create(
            [
                StandardReview(
                    organisation=org,
                    team=team,
                    edition=standards.EDITION,
                    number=s.number,
                    status=marks[(s.number + t) % 3],
                )
                for s in standards.standards()[: 10 + 20 * t]
                if s.number not in marked
            ]
        )
    return flagged.id


def london_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(LONDON).date()
