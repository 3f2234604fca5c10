"""GET /health: liveness and storage reachability. No token needed."""

from clinic.api import Request, endpoint, ok
from clinic.models.health import HealthOut
from clinic.services import health


@endpoint(
    "Health",
    answers=HealthOut,
    summary="Liveness and storage reachability",
    other_answers={503: "A table did not answer (the same report says which)"},
    description="200 when every table answers, 503 (same body) when one does not. No token needed.",
)
def check_health(request: Request):
    report = health.check()
    return ok(report, status=200 if report["status"] == "ok" else 503)


lambda_handler = check_health
