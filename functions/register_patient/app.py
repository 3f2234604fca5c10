"""POST /patients: register a patient (staff)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import IdempotencyKey, create_app, document, entrypoint, once
from clinic.models.patients import PatientCreate, PatientOut
from clinic.observability import count, logger
from clinic.services import patients

app = create_app()


@app.post("/patients", summary="Register a patient", tags=["patients"],
          responses=document(201, PatientOut, "Created", conflict="IDEMPOTENCY_IN_PROGRESS"))
def register_patient(body: Annotated[PatientCreate, Body()], idempotency_key: IdempotencyKey = None):
    def register():
        patient = patients.register(body)
        logger.info("patient registered", extra={"patient_id": patient["id"]})
        count("PatientRegistered")
        return {"status": 201, "body": patient, "headers": {"Location": f"/patients/{patient['id']}"}}

    return once(app, body.model_dump(mode="json"), register)


lambda_handler = entrypoint(app)
