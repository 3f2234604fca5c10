"""The Docker-free local stack: template.yaml read once, DynamoDB Local (or moto behind a lock),
one worker process per function with the layer on its path, an API Gateway-like HTTP front, and the
background pieces the template declares (DynamoDB Streams consumers, EventBridge rules, schedules).

``LOCAL_TEMPLATE`` points the stack at another template (the integration tests' fixture template);
paths in it (CodeUri, ContentUri) are relative to that template's folder, as for ``sam``."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / os.environ.get("LOCAL_TEMPLATE", "template.yaml")).resolve()
LOCAL_STACK_NAME = "clinic-local"
REGION = "us-east-1"
ACCOUNT = "000000000000"
