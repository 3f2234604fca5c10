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

import gc as _gc
import os as _os

# A function's init (in Lambda, and in the local stack's workers): no garbage collection while the layer
# and its SDKs are imported — they leave some 45,000 objects for the collector to track and a few dozen
# of cyclic garbage, so the collections their allocations trigger (15–20 ms of a cold start here) find
# next to nothing.
# clinic.observability turns it back on when the function's handler is made, after freezing what the
# init made (gc.freeze); tests/unit/test_lazy_imports.py checks every kind of function ends its init so.
_function_init = bool(_os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))  # not tests or tools importing the layer
_gc_paused = _function_init and _gc.isenabled()
if _gc_paused:
    _gc.disable()
