"""Presentation: what people read, drawn from what the domains compute.

It sits under the adapters (``cli``, ``api``) and over the domains, and holds no rule: ``report`` (the credit
report as HTML and PDF, with its Jinja2 template), ``quality`` (the data-quality page), ``validation`` (a
scoring model's validation page), ``charts`` (inline SVG charts and HTML tables), ``money`` (amounts and
rates as text) and ``fonts`` (whether the machine can draw Chinese names).
"""
