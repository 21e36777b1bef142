"""The storepulse Chalice app: middleware, blueprints and scheduled jobs wired; nothing else."""

import gc

# Cold start is a budget: what is imported here lives as long as the container, so the
# collector's passes over it while importing are wasted (about a tenth of a cold start).
# It runs again, with those objects frozen out of every later pass, at the end of this file.
gc.disable()

from typing import Any

from chalice import Chalice, ConvertToMiddleware, CORSConfig, Rate
from chalice.app import CloudWatchEvent, DynamoDBEvent, SNSEvent

from chalicelib.api import (
    callback_routes,
    export_routes,
    integration_routes,
    kiosk_routes,
    link_routes,
    onboarding_routes,
    openapi_routes,
    people_routes,
    satisfaction_routes,
    sms_routes,
    store_routes,
    webhook_routes,
)
from chalicelib.api.http import http_boundary
from chalicelib.clock import now
from chalicelib.config import settings
from chalicelib.observability import powertools_middleware, tracer

config = settings()  # a missing variable fails here, at start, with its name

app = Chalice(app_name="storepulse")
app.api.cors = CORSConfig(
    allow_origin=config.cors_origin,
    allow_headers=["Authorization", "Content-Type", "X-Correlation-Id"],
    # The CSV exports' next page (Link: rel="next") must be readable by the staff page.
    expose_headers=["Link", "X-Correlation-Id"],
    max_age=600,
)

# Outermost first. http_boundary sets the correlation id (X-Correlation-Id or the
# API Gateway request id) that every later log line of the request carries.
app.register_middleware(powertools_middleware)
if config.tracing:
    app.register_middleware(
        ConvertToMiddleware(tracer().capture_lambda_handler(capture_response=False))
    )
app.register_middleware(http_boundary, "http")

app.register_blueprint(kiosk_routes.bp)
app.register_blueprint(link_routes.bp)
app.register_blueprint(store_routes.bp)
app.register_blueprint(sms_routes.bp)
app.register_blueprint(satisfaction_routes.bp)
app.register_blueprint(export_routes.bp)
app.register_blueprint(callback_routes.bp)
app.register_blueprint(people_routes.bp)
app.register_blueprint(integration_routes.bp)
app.register_blueprint(onboarding_routes.bp)
app.register_blueprint(webhook_routes.bp)
app.register_blueprint(openapi_routes.bp)


@app.on_sns_message(topic=sms_routes.INBOUND_SMS_TOPIC)
def inbound_sms(event: SNSEvent) -> None:
    from chalicelib.flows.sms_survey import aws_inbound

    # SNSEvent has no attribute for the time End User Messaging published the message.
    notification = event.to_dict()["Records"][0]["Sns"]
    aws_inbound(event.message, published_at=notification.get("Timestamp"))


@app.schedule(Rate(5, unit=Rate.MINUTES))
def aggregate_satisfaction(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.jobs.aggregate import aggregate
    from chalicelib.jobs.alerts import check_alerts
    from chalicelib.jobs.flagging import flag_kiosk_callbacks, flag_sms_callbacks
    from chalicelib.jobs.kiosk_health import check_silent_kiosks

    run = aggregate(now(), flag=lambda rating_ids: flag_kiosk_callbacks(rating_ids, now()))
    flagged = run.flagged + flag_sms_callbacks(now())
    alerts = check_alerts(sorted(run.stores), now())
    silent = check_silent_kiosks(now())
    return {"ratings": run.ratings, "tasks": flagged, "alerts": len(alerts), "silent": silent}


# Chalice needs a stream to package the handler; infra/resources.yaml puts the table's own
# (with the filter and retry settings Chalice has no arguments for).
TABLE_STREAM = "arn:aws:dynamodb:us-east-1:000000000000:table/storepulse/stream/set-by-infra"


@app.on_dynamodb_record(stream_arn=TABLE_STREAM, batch_size=10, starting_position="LATEST")
def flag_callbacks(event: DynamoDBEvent) -> dict[str, Any]:
    """A rating that asked for a call, or an SMS YES, made a task within seconds."""
    from chalicelib.jobs.flagging import flag_written

    return flag_written(event.to_dict(), now)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def follow_up_callbacks(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.jobs.flagging import follow_up

    return follow_up(now())


@app.schedule(Rate(1, unit=Rate.HOURS))
def send_weekly_digest(event: CloudWatchEvent) -> dict[str, int]:
    """Hourly, so that each store's digest goes out on its own Monday morning."""
    from chalicelib.jobs.digest import send_weekly_digests

    return {"sent": send_weekly_digests(now())}


@app.schedule(Rate(1, unit=Rate.MINUTES))
def deliver_webhooks(event: CloudWatchEvent) -> dict[str, int]:
    """Signed webhooks out: what is due, each retried with backoff for 24 h."""
    from chalicelib.flows.webhooks import deliver_due

    return deliver_due(now())


@app.lambda_function()
def rebuild_aggregates(event: dict[str, str], context: object) -> dict[str, int]:
    """Recompute the aggregates of the ratings that arrived since a date or an ISO date-time
    (UTC unless it has an offset) from the raw ratings: {"since": "2026-01-01"}."""
    from chalicelib.jobs.aggregate import parse_since, rebuild

    run = rebuild(parse_since(event["since"]), now())
    return {"hours": run.hours, "ratings": run.ratings, "partials": run.partials}


@app.schedule(Rate(5, unit=Rate.MINUTES))
def send_scheduled_invitations(event: CloudWatchEvent) -> dict[str, int]:
    from chalicelib.jobs.sms_schedule import send_due_invitations, store_unanswered_ratings

    return {"sent": send_due_invitations(now()), "ratings": store_unanswered_ratings(now())}


gc.freeze()
gc.enable()
