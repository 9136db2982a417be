"""A notification kind (coprod.domain.notifications.KINDS) rendered for one channel, email,
text or letter, and written to the outbox in the caller's transaction. Which channel a person
gets, and whether they may be contacted at all, is services.contact's to decide."""

from __future__ import annotations

from typing import Any, Protocol

from jinja2 import TemplateNotFound

from coprod.domain import notifications as rules
from coprod.domain.notifications import Channel, Kind, LetterVariant
from coprod.domain.scheduling import london_date
from coprod.integrations import letters
from coprod.models import OutboxMessage, Representative
from coprod.services import arrangements, outbox
from coprod.templating import environment


class Recipient(Protocol):
    """What a message needs to know about whom it is for: a representative, or someone who has
    said they are interested and is not one yet (models.Interest)."""

    # Read-only, so that a model's column (typed as its plain value) fits.
    @property
    def id(self) -> int: ...
    @property
    def full_name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def mobile(self) -> str | None: ...
    @property
    def postal_address(self) -> str | None: ...
    @property
    def contact_channels(self) -> Any: ...
    @property
    def formats(self) -> Any: ...
    @property
    def addresses(self) -> rules.Addresses: ...


class Unprintable(Exception):
    """A letter that cannot be printed as it stands: an address that is not a full postal
    address, or more words than the pages Notify allows."""


def render_text(kind: str, context: dict[str, Any]) -> str:
    """A text message's words, without blank runs (every character is paid for)."""
    text = environment().get_template(f"texts/{kind}.txt").render(context)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def render_letter(kind: str, context: dict[str, Any], variant: LetterVariant) -> tuple[str, str]:
    """A letter's heading and body: the email's words, or easy-read words where written."""
    env = environment()
    letter = {**context, "channel": Channel.LETTER.value}
    heading = env.get_template(f"emails/{kind}.subject.txt").render(letter).strip()
    body_template = f"emails/{kind}.txt"
    if variant is LetterVariant.EASY_READ:
        try:
            env.get_template(f"letters/easy_read/{kind}.txt")
            body_template = f"letters/easy_read/{kind}.txt"
        except TemplateNotFound:
            pass  # staff messages have no easy-read words; the plain ones are used
    return heading, env.get_template(body_template).render(letter).strip()


async def queue(
    rep: Recipient,
    kind: Kind,
    channel: Channel,
    context: dict[str, Any],
    *,
    organisation_id: int | None,
    dedupe_key: str | None = None,
    attachments: tuple[outbox.Attachment, ...] = (),
) -> OutboxMessage | None:
    """Render a kind for one channel and write it to the outbox for this person. With a dedupe
    key it is written once only (None when it was already)."""
    representative = rep if isinstance(rep, Representative) else None
    common: dict[str, Any] = {
        "organisation_id": organisation_id,
        "representative_id": representative.id if representative else None,
        "notification": kind.name,
        "kind": channel.value,
        "dedupe_key": dedupe_key,
    }
    if channel is Channel.EMAIL:
        assert rep.email is not None
        subject, text, html = outbox.render_email(kind.name, context)
        return await outbox.write(
            **common,
            to_address=rep.email,
            subject=subject,
            text_body=text,
            html_body=html,
            attachments=[outbox.attachment_row(a) for a in attachments],
        )
    if channel is Channel.TEXT:
        assert rep.mobile is not None
        return await outbox.write(
            **common,
            to_address=rep.mobile,
            subject=outbox.render_email(kind.name, context)[0],
            text_body=render_text(kind.name, {**context, "channel": channel.value}),
            html_body="",
        )
    variant = rules.letter_variant(rep.formats or [])
    heading, body = render_letter(kind.name, context, variant)
    letter = await outbox.write(
        **common,
        to_address=rep.full_name[:254],
        postal_address=rep.postal_address,
        letter_variant=variant.value,
        subject=heading[:255],
        text_body=body,
        html_body="",
    )
    if letter is not None and representative is not None:
        # Print does not reach someone who reads Braille or listens: the lead has it made so.
        # (Someone not yet a representative is spoken to by their lead about their needs.)
        await arrangements.add_transcriptions(representative, letter)
    return letter


def letter_pdf(row: OutboxMessage) -> bytes:
    """The letter an outbox row holds, drawn as the PDF that is posted (or printed by hand).
    The row's organisation must be fetched."""
    try:
        return letters.draw(
            letters.Letter(
                address=letters.address_lines(row.to_address, row.postal_address or ""),
                sender=row.organisation.name if row.organisation else "Coprod",
                sender_contact="",
                date=london_date(row.created_at),
                heading=row.subject,
                body=row.text_body,
                variant=LetterVariant(row.letter_variant or LetterVariant.STANDARD),
            )
        )
    except ValueError as exc:
        raise Unprintable(str(exc)) from exc
