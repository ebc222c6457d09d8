"""Rapport's Lambda entrypoint: the Chalice app and its blueprints, nothing else."""

from chalice.app import Chalice

from chalicelib.adapters.observability import observe_http
from chalicelib.entrypoints import health, webhooks

app = Chalice(app_name="rapport")
app.register_middleware(observe_http, "http")
app.register_blueprint(health.bp)
app.register_blueprint(webhooks.bp)
