"""POST /doctors: create a doctor (staff)."""

from clinic.api import Request, created, endpoint
from clinic.models.doctors import DoctorCreate, DoctorOut
from clinic.observability import count, logger
from clinic.services import doctors


@endpoint("CreateDoctor", body=DoctorCreate, answers=DoctorOut, status=201, summary="Create a doctor")
def create_doctor(request: Request):
    doctor = doctors.create(request.body)
    logger.info("doctor created", extra={"doctor_id": doctor["id"]})
    count("DoctorCreated")
    return created(f"/doctors/{doctor['id']}", doctor)


lambda_handler = create_doctor
