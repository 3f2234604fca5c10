"""The clinic appointments service's shared layer.

Layering, from the edge inward:
- ``clinic.api``         the HTTP edge: resolver factory, problem+json errors, entrypoint decorator
- ``clinic.identity``    the one place that turns authorizer claims into the caller
- ``clinic.pagination``  opaque, tamper-evident next_token values
- ``clinic.models``      pydantic request and response models
- ``clinic.services``    use cases that tie models, rules and storage together
- ``clinic.domain``      pure rules (time grid, lifecycle); no boto3
- ``clinic.data``        DynamoDB access: the only code that knows tables, keys and expressions
- ``clinic.observability`` the Powertools logger, metrics and tracer every function shares
"""
