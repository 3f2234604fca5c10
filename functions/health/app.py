"""GET /health: liveness and storage reachability. No token needed."""

from clinic.api import create_app, entrypoint, json_response
from clinic.services import health

app = create_app()


@app.get("/health", summary="Liveness and storage reachability", tags=["health"],
         responses={200: {"description": "Healthy"}, 503: {"description": "A dependency failed"}})
def check_health():
    report = health.check()
    return json_response(200 if report["status"] == "ok" else 503, report)


lambda_handler = entrypoint(app)
