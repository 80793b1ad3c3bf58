"""The ASGI app for servers: ``uvicorn openbureau.api.main:app`` (settings from the environment)."""

from openbureau.api.app import create_app

app = create_app(serving=True)
