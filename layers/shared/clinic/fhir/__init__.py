"""The FHIR R4 view of the service (read-only, under /fhir; docs/fhir.md).

- ``resources``: native records → FHIR resources (pure);
- ``search``: FHIR search parameters → typed queries (pure): prefixes, references, tokens, ``_count``,
  unknown parameters (lenient or ``Prefer: handling=strict``);
- ``bundle``: searchset Bundles and their links (pure);
- ``outcome``: errors as OperationOutcome (pure);
- ``capability``: the CapabilityStatement (pure);
- ``edge``: what the functions share: the base URL of a request, answers in ``application/fhir+json``,
  and ``fhir_endpoint``, ``clinic.api.endpoint`` with the FHIR formats preset.

The use cases are ``clinic.services.fhir``: each read or search is its native route's use case (same
access rules, audit trail and storage), its answer mapped here.
"""

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
# Identifiers of the service's own code systems. Not resolvable: clinic.example.org stands for the clinic's
# own domain (as in the OpenAPI document); a clinic with one replaces it here, once.
CODE_SYSTEMS = "https://clinic.example.org/fhir/CodeSystem"
APPOINTMENT_TYPE_SYSTEM = f"{CODE_SYSTEMS}/appointment-type"  # a doctor's appointment type codes
ERROR_CODE_SYSTEM = f"{CODE_SYSTEMS}/error-code"  # the native API's stable error codes (VALIDATION_ERROR, ...)
RESOURCE_KIND_SYSTEM = f"{CODE_SYSTEMS}/resource-kind"  # a room's or a device's kind (exam-room, ultrasound, ...)
# Extensions of our own (their StructureDefinitions are not published: identifiers, like the code systems)
HOLD_EXPIRES_EXTENSION = "https://clinic.example.org/fhir/StructureDefinition/hold-expires"
# FHIR's own extension for a location's IANA time zone (the extensions pack; R4 Location has no element for it)
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
# IHE ITI Scheduling (FHIR R4) OperationDefinitions of the operations this server implements
IHE_OPERATIONS = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition"
