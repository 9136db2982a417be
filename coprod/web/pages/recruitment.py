"""The lead's Recruitment page: opportunities, people interested, outreach and courses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from coprod.models import STAFF_ROLES
from coprod.services import recruitment
from coprod.services.actor import Actor
from coprod.web.guards import signed_in
from coprod.web.render import page


@signed_in(*STAFF_ROLES)
async def overview(request: Request, actor: Actor) -> Response:
    found = await recruitment.overview(actor)
    return page(request, "recruitment/overview.html", {"found": found})


routes = [Route("/recruitment", overview, methods=["GET"])]
