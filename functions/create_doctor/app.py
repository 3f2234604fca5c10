"""POST /doctors: create a doctor (staff)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import IdempotencyKey, create_app, document, entrypoint, once
from clinic.models.doctors import DoctorCreate, DoctorOut
from clinic.observability import count, logger
from clinic.services import doctors

app = create_app()


@app.post("/doctors", summary="Create a doctor", tags=["doctors"],
          responses=document(201, DoctorOut, "Created", conflict="IDEMPOTENCY_IN_PROGRESS"))
def create_doctor(body: Annotated[DoctorCreate, Body()], idempotency_key: IdempotencyKey = None):
    def create():
        doctor = doctors.create(body)
        logger.info("doctor created", extra={"doctor_id": doctor["id"]})
        count("DoctorCreated")
        return {"status": 201, "body": doctor, "headers": {"Location": f"/doctors/{doctor['id']}"}}

    return once(app, body.model_dump(mode="json"), create)


lambda_handler = entrypoint(app)
