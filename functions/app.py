"""The storepulse Chalice app: middleware, blueprints and scheduled jobs wired; nothing else."""

from aws_lambda_powertools.logging import correlation_paths
from chalice import Chalice, ConvertToMiddleware, CORSConfig

from chalicelib.api import kiosk, stores
from chalicelib.api.http import errors_as_json
from chalicelib.config import settings
from chalicelib.observability import logger, metrics, tracer

config = settings()  # a missing variable fails here, at start, with its name

app = Chalice(app_name="storepulse")
app.api.cors = CORSConfig(
    allow_origin=config.cors_origin,
    allow_headers=["Authorization", "Content-Type", "X-Correlation-Id"],
    max_age=600,
)

# Outermost first: every log line of a request carries its correlation id.
app.register_middleware(
    ConvertToMiddleware(
        logger.inject_lambda_context(
            correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
        )
    )
)
app.register_middleware(ConvertToMiddleware(metrics.log_metrics))
app.register_middleware(ConvertToMiddleware(tracer.capture_lambda_handler(capture_response=False)))
app.register_middleware(errors_as_json, "http")

app.register_blueprint(kiosk.bp)
app.register_blueprint(stores.bp)
