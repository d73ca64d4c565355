"""The staff web console (issue #12): one Starlette app, served by uvicorn in ``main.py run``.

    app.py          ``create_app(services)``: the ASGI app, its middleware and error pages
    routes.py       THE route table: the console, /healthz, /readyz, the Telegram webhook
    telegram_hook.py  POST /telegram/webhook: secret header, JSON, handed to ``main.py``'s receiver
    health.py       /healthz (alive) and /readyz (database and the given probes answer)
    context.py      ``Services``: what ``main.py`` hands the handlers (store, tickets, clock, ...)
    guard.py        who is asking: the session cookie, idle timeout, role, CSRF, per route
    security.py     pure rules: tokens, CSRF values, TOTP steps, lockout, the security headers
    permissions.py  pure rules: which role may open which area
    render.py       the jinja2 templates of ``templates/staff/`` (autoescaped, Italian first)
    forms.py        reading form fields and query strings, with length caps
    auth.py         login with password and TOTP, enrolment with a QR code, logout
    inbox.py, ticket.py, admin.py   the pages; answers.py: the ready answers of the reply box
    server.py       uvicorn inside the service's event loop

Imports ``assistant``, ``store``, ``staff.accounts`` (account changes, shared with the command
line) and ``mailbox.inbound.attachments`` (an attachment's bytes out of the kept mail); nothing
imports ``web`` but ``main.py`` (and tests).
The handlers are thin: they read a form, call the core or a repository, render a template.
"""
