"""Projects, and the respect agreements people acknowledge before taking part in one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.transactions import in_transaction

from coprod.errors import NotFound
from coprod.models import Project, Representative, RespectAcknowledgement
from coprod.services import audit
from coprod.services.access import is_lead, is_self, require_lead
from coprod.services.actor import Actor
from coprod.services.representatives import on_behalf
from coprod.validation import Checker, ValidationFailed


async def create_project(actor: Actor, data: Mapping[str, Any]) -> Project:
    require_lead(actor)
    c = Checker(data)
    name = c.text("name", "the project's name")
    description = c.text("description", "a description", required=False, max_length=4000)
    agreement = c.text(
        "respect_agreement", "the respect agreement", required=False, max_length=8000
    )
    required = c.boolean("respect_agreement_required")
    if required and not agreement:
        c.fail("respect_agreement", "Enter the respect agreement, or do not require one")
    c.done()
    if await Project.filter(organisation_id=actor.organisation_id, name=name).exists():
        raise ValidationFailed.one("name", "There is already a project with this name")
    async with in_transaction():
        project = await Project.create(
            organisation_id=actor.organisation_id,
            name=name,
            description=description or None,
            respect_agreement=agreement or None,
            respect_agreement_required=required,
        )
        await audit.record(actor, "project.create", project, after=audit.snapshot(project))
    return project


async def acknowledge(actor: Actor, project: Project, rep: Representative | None) -> None:
    """Record that a representative (or, with rep None, the acting member of staff) agreed.
    Only a lead may record it for someone else; anything outside the actor's organisation, or
    another person's record, is not found."""
    if project.organisation_id != actor.organisation_id:
        raise NotFound
    if rep is not None and (
        rep.organisation_id != actor.organisation_id or not (is_lead(actor) or is_self(actor, rep))
    ):
        raise NotFound
    async with in_transaction():
        if rep is None:
            _, created = await RespectAcknowledgement.get_or_create(
                project=project, user=actor.user
            )
        else:
            _, created = await RespectAcknowledgement.get_or_create(
                project=project, representative=rep
            )
        if created:
            await audit.record(
                actor,
                "respect_agreement.acknowledge",
                project,
                after={"representative_id": rep.id if rep else None},
                on_behalf_of=on_behalf(actor, rep) if rep else None,
            )


async def has_acknowledged(project: Project | None, rep: Representative) -> bool:
    if project is None or not project.respect_agreement_required:
        return True
    return await RespectAcknowledgement.filter(project=project, representative=rep).exists()
