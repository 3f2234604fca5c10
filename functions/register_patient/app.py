"""POST /patients: register a patient (staff)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import caller, create_app, created, document, entrypoint
from clinic.models.patients import PatientCreate, PatientOut
from clinic.observability import count, logger
from clinic.services import patients

app = create_app()


@app.post("/patients", summary="Register a patient", tags=["patients"],
          responses=document(201, PatientOut, "Created", conflict="IDEMPOTENCY_IN_PROGRESS"))
def register_patient(body: Annotated[PatientCreate, Body()]):
    caller(app)
    patient = patients.register(body)
    logger.info("patient registered", extra={"patient_id": patient["id"]})
    count("PatientRegistered")
    return created(f"/patients/{patient['id']}", patient)


lambda_handler = entrypoint(app)
