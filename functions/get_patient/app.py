"""GET /patients/{patient_id}: read one patient."""

from clinic.api import caller, create_app, document, entrypoint, json_response
from clinic.models.patients import PatientOut
from clinic.services import patients

app = create_app()


@app.get("/patients/<patient_id>", summary="Read a patient", tags=["patients"], responses=document(200, PatientOut))
def get_patient(patient_id: str):
    return json_response(200, patients.get(patient_id, caller(app)))


lambda_handler = entrypoint(app)
