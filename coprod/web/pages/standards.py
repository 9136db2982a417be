"""A team's self-review against the quality network's patient and carer standards: the
overview, one standard (its mark, evidence and suggestions), the CSV and a printable page for
peer reviewers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod import clock
from coprod.domain import standard_evidence as rules
from coprod.domain.standards import EDITION_NAME, TYPE_NAMES, SectionShare
from coprod.errors import Conflict, NotFound
from coprod.integrations import csv_files
from coprod.models import Organisation, Role
from coprod.services import standards
from coprod.services.actor import Actor
from coprod.validation import FieldError, ValidationFailed, record_id
from coprod.web.charts import bar_chart
from coprod.web.guards import form_values, signed_in
from coprod.web.render import as_page_errors, csv_download, page, redirect

STAFF = (Role.INVOLVEMENT_LEAD, Role.REPORTER, Role.ORG_ADMIN, Role.FINANCE_OFFICER)
# The chart's labels must fit its label column; the table beside it names sections in full.
SHORT_SECTIONS = {
    "Service Provision and Structure": "Service provision",
    "Staffing and Training": "Staffing and training",
    "Assessment, Care Planning and Treatment": "Assessment and care",
    "Patient and Family/Carer Experience": "Experience of care",
}
CSV_HEADER = ["number", "type", "section", "standard", "status", "note", "evidence"]


def _common(review: standards.TeamReview) -> dict[str, Any]:
    return {
        "review": review,
        "team": review.team,
        "edition_name": EDITION_NAME,
        "type_names": TYPE_NAMES,
        "short_sections": SHORT_SECTIONS,
    }


def _chart(shares: list[SectionShare], overall: SectionShare) -> Any:
    return bar_chart(
        "standards-met",
        "Share of standards met, by section",
        "The per cent of the standards in each section that the team marked as met, and of "
        "all standards.",
        [(SHORT_SECTIONS.get(s.section, s.section), s.percent_met) for s in shares]
        + [("All standards", overall.percent_met)],
        "%",
    )


@signed_in(*STAFF)
async def overview(request: Request, actor: Actor) -> Response:
    review = await standards.team_review(actor, request.path_params["id"])
    return page(request, "standards/review.html", _common(review))


@signed_in(*STAFF)
async def print_page(request: Request, actor: Actor) -> Response:
    review = await standards.team_review(actor, request.path_params["id"], leaving=True)
    organisation = await Organisation.get(id=actor.organisation_id)
    return page(
        request,
        "standards/print.html",
        {
            **_common(review),
            "organisation": organisation,
            "today": clock.today(),
            "chart": _chart(review.shares, review.overall),
        },
    )


@signed_in(*STAFF)
async def csv_export(request: Request, actor: Actor) -> Response:
    review = await standards.team_review(actor, request.path_params["id"], leaving=True)
    rows = [
        [
            e.standard.number,
            e.standard.type,
            e.standard.section,
            e.standard.text,
            e.status_label,
            e.note,
            "\n".join(item.description for item in e.evidence),
        ]
        for e in review.entries
    ]
    return csv_download(
        csv_files.write(CSV_HEADER, rows), f"standards-team-{review.team.id}-{clock.today()}.csv"
    )


@signed_in(*STAFF)
async def standard(request: Request, actor: Actor) -> Response:
    team_id, number = request.path_params["id"], request.path_params["number"]
    errors: ValidationFailed | None = None
    status_code = 200
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = form_values(await request.form())
        try:
            done = await _act(actor, team_id, number, form)
            return redirect(f"/teams/{team_id}/standards/{number}?done={done}#{done}")
        except (ValidationFailed, Conflict) as exc:
            errors = _on_page(as_page_errors(exc), form)
            status_code = 409 if isinstance(exc, Conflict) else 422
    detail = await standards.standard_detail(actor, team_id, number)
    if errors is None and detail.entry.status != standards.NOT_MARKED:
        form = {"status": detail.entry.status, "note": detail.entry.note or ""}
    elif errors is None:
        form = {}
    elif form.get("action") != "mark":
        # The mark form shows what is saved; only the form that was sent shows what was typed.
        form = {
            **form,
            "status": detail.entry.status if detail.entry.status != "not_marked" else "",
            "note": detail.entry.note or "",
        }
    return page(
        request,
        "standards/standard.html",
        {
            "detail": detail,
            "team": detail.team,
            "entry": detail.entry,
            "standard": detail.entry.standard,
            "type_names": TYPE_NAMES,
            "status_labels": rules.STATUS_LABELS,
            "done": request.query_params.get("done"),
            "form": form,
        },
        status_code=status_code,
        errors=errors,
    )


async def _act(actor: Actor, team_id: int, number: int, form: dict[str, Any]) -> str:
    action = form.get("action")
    if action == "mark":
        await standards.mark(actor, team_id, number, form)
        return "marked"
    if action == "remove":
        await standards.remove_evidence(
            actor, team_id, number, _evidence_id(form.get("evidence_id"))
        )
        return "removed"
    data = {**form}
    # The page has two note boxes (the mark's and a note as evidence): this one has its own id.
    data["note"] = form.get("evidence_note", "")
    await standards.add_evidence(actor, team_id, number, data)
    return "added"


def _evidence_id(raw: Any) -> int:
    found = record_id(raw)
    if found is None:
        raise NotFound
    return found


def _on_page(errors: ValidationFailed, form: dict[str, Any]) -> ValidationFailed:
    if form.get("action") in ("mark", "remove"):
        return errors
    return ValidationFailed(
        FieldError("evidence_note" if e.field == "note" else e.field, e.message)
        for e in errors.errors
    )


routes = [
    Route("/teams/{id:int}/standards", overview, methods=["GET"]),
    Route("/teams/{id:int}/standards.csv", csv_export, methods=["GET"]),
    Route("/teams/{id:int}/standards/print", print_page, methods=["GET"]),
    Route("/teams/{id:int}/standards/{number:int}", standard, methods=["GET", "POST"]),
]
