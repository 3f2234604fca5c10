"""GET /doctors/{doctor_id}: read one doctor (any authenticated user)."""

from clinic.api import create_app, document, entrypoint, json_response
from clinic.models.doctors import DoctorOut
from clinic.services import doctors

app = create_app()


@app.get("/doctors/<doctor_id>", summary="Read a doctor", tags=["doctors"], responses=document(200, DoctorOut))
def get_doctor(doctor_id: str):
    return json_response(200, doctors.get(doctor_id))


lambda_handler = entrypoint(app)
