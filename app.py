"""Rapport's Lambda entrypoints: the Chalice app and its blueprints, nothing else."""

from chalice.app import Chalice

from chalicelib import bootstrap
from chalicelib.adapters.observability import observe_http
from chalicelib.entrypoints import (
    agents,
    consents,
    console,
    contacts,
    events,
    health,
    jobs,
    keys,
    links,
    openapi,
    operator,
    privacy,
    stores,
    webhooks,
)
from chalicelib.entrypoints.auth import require_api_key

# Importing this module is the Lambda cold start: settings that cannot work
# fail it here (logged, every bad variable named), never a request later.
bootstrap.settings()

# Chalice's own logger is named after the app, as Powertools' is after the service:
# one JSON, phone-masking handler for both, so Chalice must not add its own.
app = Chalice(app_name="rapport", configure_logs=False)
app.register_middleware(observe_http, "http")
app.register_middleware(require_api_key(app.routes), "http")  # roles: @allow on each /api/ route
app.register_blueprint(health.bp)
app.register_blueprint(operator.bp)
app.register_blueprint(contacts.bp)
app.register_blueprint(privacy.bp)
app.register_blueprint(consents.bp)
app.register_blueprint(links.bp)
app.register_blueprint(stores.bp)
app.register_blueprint(events.bp)
app.register_blueprint(agents.bp)
app.register_blueprint(keys.bp)
app.register_blueprint(openapi.bp)
app.register_blueprint(webhooks.bp)
app.register_blueprint(jobs.bp)
app.register_blueprint(console.bp)  # GET /console: the web console, static files
