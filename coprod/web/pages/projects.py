"""Projects, and acknowledging their respect agreements."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.errors import NotFound
from coprod.models import Activity, Project, Representative, RespectAcknowledgement, Role
from coprod.services import access, projects
from coprod.services.actor import Actor
from coprod.validation import ValidationFailed
from coprod.web.guards import form_values, signed_in
from coprod.web.render import page, redirect


@signed_in(Role.INVOLVEMENT_LEAD)
async def project_list(request: Request, actor: Actor) -> Response:
    errors = None
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            project = await projects.create_project(actor, form)
            return redirect(f"/projects/{project.id}")
        except ValidationFailed as exc:
            errors = exc
    all_projects = await Project.filter(organisation_id=actor.organisation_id)
    return page(
        request,
        "activities/projects.html",
        {"projects": all_projects, "form": form},
        status_code=422 if errors else 200,
        errors=errors,
    )


@signed_in(Role.INVOLVEMENT_LEAD)
async def project_detail(request: Request, actor: Actor) -> Response:
    project = await Project.get_or_none(
        id=request.path_params["id"], organisation_id=actor.organisation_id
    )
    if project is None:
        raise NotFound
    if request.method == "POST":
        form = form_values(await request.form())
        rep = None
        if form.get("representative_id"):
            rep = await access.representative_for(actor, int(str(form["representative_id"])))
        await projects.acknowledge(actor, project, rep)
        return redirect(f"/projects/{project.id}?acknowledged=1")
    acks = await RespectAcknowledgement.filter(project=project).prefetch_related(
        "representative", "user"
    )
    reps = await Representative.filter(
        organisation_id=actor.organisation_id, archived_at__isnull=True
    )
    acked = {a.representative_id for a in acks if a.representative_id}
    return page(
        request,
        "activities/project.html",
        {
            "project": project,
            "acks": acks,
            "to_acknowledge": [r for r in reps if r.id not in acked],
            "activities": await Activity.filter(project=project),
            "staff_acked": any(a.user_id == actor.user.id for a in acks if actor.user),
            "done": request.query_params.get("acknowledged"),
        },
    )


routes = [
    Route("/projects", project_list, methods=["GET", "POST"]),
    Route("/projects/{id:int}", project_detail, methods=["GET", "POST"]),
]
