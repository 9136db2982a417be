"""API operations for projects and their respect agreements.

Leads create projects and record who agreed to a project's respect agreement. A representative
reads a project's agreement and records their own agreement themselves; they see only their
own acknowledgement, never who else agreed.
"""

from __future__ import annotations

from pydantic import Field
from starlette.requests import Request

from coprod.errors import NotFound
from coprod.models import Project, RespectAcknowledgement, Role
from coprod.services import access, projects
from coprod.services.actor import Actor
from coprod.web.api.paging import keyset_page
from coprod.web.api.registry import api
from coprod.web.api.schema import Body, DateTime, Id, Page, Paging, Reply, text

PROJECTS = "projects"
LEADS = (Role.INVOLVEMENT_LEAD,)
LEADS_AND_REPRESENTATIVES = (Role.INVOLVEMENT_LEAD, Role.REPRESENTATIVE)


class NewProject(Body):
    name: str = text(200, title="the project's name")
    description: str | None = text(4000, required=False, default=None, title="a description")
    respect_agreement: str | None = text(
        8000,
        required=False,
        default=None,
        title="the respect agreement",
        description="How everyone agrees to work together",
    )
    respect_agreement_required: bool = Field(
        False, description="People must agree to it before they are booked onto its activities"
    )


class ProjectReply(Reply):
    id: int
    name: str
    description: str | None
    respect_agreement: str | None
    respect_agreement_required: bool
    created_at: DateTime


def _project(project: Project) -> ProjectReply:
    return ProjectReply(
        id=project.id,
        name=project.name,
        description=project.description,
        respect_agreement=project.respect_agreement,
        respect_agreement_required=project.respect_agreement_required,
        created_at=project.created_at,
    )


async def _project_for(actor: Actor, project_id: int) -> Project:
    project = await Project.get_or_none(id=project_id, organisation_id=actor.organisation_id)
    if project is None:
        raise NotFound
    return project


@api.operation(
    "GET",
    "/projects",
    summary="Your organisation's projects, by name",
    tag=PROJECTS,
    roles=LEADS,
    query=Paging,
    reply=Page[ProjectReply],
)
async def list_projects(request: Request, actor: Actor, query: Paging) -> Page[ProjectReply]:
    found, cursor = await keyset_page(
        Project.filter(organisation_id=actor.organisation_id), query, ("name", "id")
    )
    return Page(items=[_project(p) for p in found], next_cursor=cursor)


@api.operation(
    "POST",
    "/projects",
    summary="Start a project, with a respect agreement people may have to agree to first",
    tag=PROJECTS,
    roles=LEADS,
    body=NewProject,
    reply=ProjectReply,
    status=201,
)
async def create_project(request: Request, actor: Actor, body: NewProject) -> ProjectReply:
    return _project(await projects.create_project(actor, body.data()))


@api.operation(
    "GET",
    "/projects/{id:int}",
    summary="One project, with its respect agreement",
    tag=PROJECTS,
    roles=LEADS_AND_REPRESENTATIVES,
    reply=ProjectReply,
)
async def get_project(request: Request, actor: Actor, id: int) -> ProjectReply:
    return _project(await _project_for(actor, id))


class Acknowledge(Body):
    representative_id: Id | None = Field(
        None,
        title="the person agreeing",
        description="A lead recording that a representative agreed. Leave out to record your "
        "own agreement, as a representative or as the member of staff signed in",
    )


class AcknowledgementReply(Reply):
    id: int
    project_id: int
    representative_id: int | None = Field(description="Null when a member of staff agreed")
    user_id: int | None = Field(description="The member of staff who agreed, if it was one")
    full_name: str
    acknowledged_at: DateTime


def _acknowledgement(ack: RespectAcknowledgement) -> AcknowledgementReply:
    """`ack` with its representative and user fetched."""
    who = ack.representative or ack.user
    assert who is not None  # a row names one or the other
    return AcknowledgementReply(
        id=ack.id,
        project_id=ack.project_id,  # type: ignore[attr-defined]
        representative_id=ack.representative_id,
        user_id=ack.user_id,
        full_name=who.full_name,
        acknowledged_at=ack.created_at,
    )


@api.operation(
    "GET",
    "/projects/{id:int}/acknowledgements",
    summary="Who agreed to the project's respect agreement, in the order they agreed (for a "
    "representative, only themselves)",
    tag=PROJECTS,
    roles=LEADS_AND_REPRESENTATIVES,
    query=Paging,
    reply=Page[AcknowledgementReply],
)
async def list_acknowledgements(
    request: Request, actor: Actor, id: int, query: Paging
) -> Page[AcknowledgementReply]:
    project = await _project_for(actor, id)
    found = RespectAcknowledgement.filter(project=project)
    if not access.is_lead(actor):
        assert actor.user is not None
        found = found.filter(representative__user_id=actor.user.id)
    acks, cursor = await keyset_page(
        found.prefetch_related("representative", "user"), query, ("id",)
    )
    return Page(items=[_acknowledgement(a) for a in acks], next_cursor=cursor)


@api.operation(
    "POST",
    "/projects/{id:int}/acknowledgements",
    summary="Record agreement to the project's respect agreement (once: sending it again "
    "changes nothing)",
    tag=PROJECTS,
    roles=LEADS_AND_REPRESENTATIVES,
    body=Acknowledge,
    reply=AcknowledgementReply,
)
async def acknowledge(
    request: Request, actor: Actor, id: int, body: Acknowledge
) -> AcknowledgementReply:
    project = await _project_for(actor, id)
    if body.representative_id is not None:
        # Leads may name anyone in their organisation; a representative only themselves.
        rep = await access.representative_for(actor, body.representative_id)
    elif access.is_lead(actor):
        rep = None
    else:
        rep = await access.own_representative(actor)
    await projects.acknowledge(actor, project, rep)
    assert actor.user is not None
    ack = await RespectAcknowledgement.get(
        project=project,
        **({"representative": rep} if rep is not None else {"user_id": actor.user.id}),
    ).prefetch_related("representative", "user")
    return _acknowledgement(ack)
