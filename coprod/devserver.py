"""`make run`: the web app, the worker and a local mail catcher in one process, for trying
Coprod out. Emails and texts are printed to the console instead of being sent, so a newcomer can
follow a sign-in link, and letters are saved as PDF files whose paths are printed (without a
GOV.UK Notify key the worker uses integrations.notify.Console). Production runs the pieces
separately (see Procfile)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from typing import Any

import uvicorn

from coprod import db, worker
from coprod.config import get_settings
from coprod.demo import seed_demo


class PrintingMailHandler:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        print(
            f"\n=== Email to {message['To']}: {message['Subject']} ===\n{text}\n=== end ===\n",
            flush=True,
        )
        return "250 Message accepted for delivery"


async def main(host: str = "127.0.0.1", port: int = 8000) -> None:
    from aiosmtpd.controller import Controller

    settings = get_settings()
    await db.migrate()
    await db.close_db()
    await db.init_db()
    for line in await seed_demo():
        print(line)
    mail = Controller(PrintingMailHandler(), hostname=settings.smtp_host, port=settings.smtp_port)
    mail.start()
    print(
        f"\nCoprod is running at http://{host}:{port}  "
        "(emails, texts and letters appear below; Ctrl+C stops)\n"
    )
    from coprod.web.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(manage_database=False), host=host, port=port, log_level="info")
    )
    worker_task = asyncio.create_task(worker.run_forever(poll_seconds=1.0))
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        mail.stop()
        await db.close_db()


if __name__ == "__main__":
    asyncio.run(main())
