"""GET /doctors/{doctor_id}: read one doctor (any authenticated user)."""

from clinic.api import Request, endpoint, ok
from clinic.models.doctors import DoctorOut
from clinic.services import doctors


@endpoint("GetDoctor", answers=DoctorOut, summary="Read a doctor")
def get_doctor(request: Request):
    return ok(doctors.get(request.path["doctor_id"]))


lambda_handler = get_doctor
