"""The portal: server-rendered pages (Jinja2) over the same services as the API, every asset served by the
bureau itself (docs/portal.md)."""
