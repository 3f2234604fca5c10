"""GET /appointments/{appointment_id}: read one appointment."""

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.appointments import AppointmentOut
from clinic.services import appointments

app = create_app()


@app.get("/appointments/<appointment_id>", summary="Read an appointment", tags=["appointments"],
         responses=document(200, AppointmentOut))
def get_appointment(appointment_id: str):
    return json_response(200, appointments.get(appointment_id, caller(app)))


lambda_handler = entrypoint(app)
