"""The ASGI app for servers: ``uvicorn openbureau.web.main:app`` serves the API and the portal (settings from
the environment)."""

from openbureau.web.app import create_app

app = create_app(serving=True)
