"""PATCH /doctors/{doctor_id}: partial update of a doctor (staff)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.doctors import DoctorOut, DoctorUpdate
from clinic.observability import count, logger
from clinic.services import doctors

app = create_app()


@app.patch("/doctors/<doctor_id>", summary="Update a doctor", tags=["doctors"], responses=document(200, DoctorOut))
def update_doctor(doctor_id: str, patch: Annotated[DoctorUpdate, Body()]):
    doctor = doctors.update(doctor_id, patch)
    logger.info("doctor updated", extra={"doctor_id": doctor["id"], "fields": sorted(patch.model_fields_set)})
    count("DoctorUpdated")
    return json_response(200, doctor)


lambda_handler = entrypoint(app)
