"""GET /fhir/metadata: the FHIR view's CapabilityStatement. No token needed."""

import os

from clinic.api import Request
from clinic.fhir import capability
from clinic.fhir.edge import answer, base_url, fhir_endpoint
from clinic.fhir.models import FhirCapabilityStatement


@fhir_endpoint(
    "FhirMetadata",
    answers=FhirCapabilityStatement,
    summary="FHIR CapabilityStatement",
    description="What the read-only FHIR R4 view supports: resources, interactions, search parameters, "
    "formats and security. No token needed.",
)
def fhir_metadata(request: Request):
    return answer(
        capability.statement(
            base_url(request.event),
            version=os.environ.get("SERVICE_VERSION", "dev"),
            cors=bool(os.environ.get("CORS_ALLOWED_ORIGIN")),
        )
    )


lambda_handler = fhir_metadata
