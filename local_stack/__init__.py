"""The Docker-free local stack: template.yaml read once, DynamoDB Local (or moto behind a lock),
one worker process per function with the layer on its path, and an API Gateway-like HTTP front."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
LOCAL_STACK_NAME = "clinic-local"
