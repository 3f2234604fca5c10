"""One function's worker process: the function loaded on its own, like one Lambda execution
environment. Started by local_stack.functions; not meant to be run by hand.

    python local_stack/worker.py <code_dir> <module> <handler>

sys.path is the function's code, then the layer folders (LOCAL_LAYER_PATHS) — what Lambda gives
it. Requests arrive one JSON line at a time on stdin; each answer goes back as one JSON line on the
file descriptor LOCAL_RESPONSE_FD, so stdout and stderr stay free for the function's logs.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
import uuid


class LambdaContext:
    """The attributes Powertools and handlers read from Lambda's context object."""

    def __init__(self, request_id: str, timeout_s: float) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"))
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    # Ctrl-C reaches the whole process group: the stack stops its workers itself (EOF on stdin), so a
    # worker ignores the signal instead of printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code_dir, module_name, handler_name = sys.argv[1:4]
    layers = [path for path in os.environ.get("LOCAL_LAYER_PATHS", "").split(os.pathsep) if path]
    sys.path[:] = [code_dir, *layers, *sys.path[1:]]
    answers = os.fdopen(int(os.environ["LOCAL_RESPONSE_FD"]), "w", buffering=1, encoding="utf-8")
    timeout_s = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "10"))
    try:
        handler = getattr(importlib.import_module(module_name), handler_name)
    except Exception:
        init_error = traceback.format_exc()
        handler = None
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        if handler is None:
            sys.stderr.write(init_error)
            answers.write(json.dumps({"error": "Runtime.InitError"}) + "\n")
            continue
        context = LambdaContext(request.get("request_id") or str(uuid.uuid4()), timeout_s)
        try:
            result = handler(request["event"], context)
            answer = {"result": result}
        except Exception as error:
            traceback.print_exc()
            answer = {"error": type(error).__name__}
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(json.dumps(answer, default=str) + "\n")


if __name__ == "__main__":
    main()
