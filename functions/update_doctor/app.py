"""PATCH /doctors/{doctor_id}: partial update of a doctor (staff)."""

from clinic.api import Request, endpoint, ok
from clinic.models.doctors import DoctorOut, DoctorUpdate
from clinic.observability import count, logger
from clinic.services import doctors


@endpoint("UpdateDoctor", body=DoctorUpdate, answers=DoctorOut, summary="Update a doctor")
def update_doctor(request: Request):
    doctor = doctors.update(request.path["doctor_id"], request.body)
    logger.info("doctor updated", extra={"doctor_id": doctor["id"], "fields": sorted(request.body.model_fields_set)})
    count("DoctorUpdated")
    return ok(doctor)


lambda_handler = update_doctor
