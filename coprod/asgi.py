"""The ASGI entry point for uvicorn: `uvicorn coprod.asgi:app`."""

from coprod.web.app import create_app

app = create_app()
