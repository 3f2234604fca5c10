"""Twenty concurrent retries with one Idempotency-Key, over real HTTP: one record, one answer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests


def test_twenty_concurrent_requests_with_one_key_make_one_patient(stack):
    headers = {**stack.headers("staff"), "Idempotency-Key": "retry-storm-1"}
    body = {"given_name": "Iris", "family_name": "Idempotent", "birth_date": "1970-01-01", "sex": "female"}

    def register(_):
        return requests.post(stack.url + "/patients", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(register, range(20)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
    assert len({a.text for a in answers}) == 1  # identical bodies
    assert len({a.headers["Location"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    found = requests.post(
        stack.url + "/patients/search",
        json={"family_name_prefix": "Idempotent"},
        headers=stack.headers("staff"),
        timeout=60,
    ).json()["items"]
    assert len(found) == 1


def test_a_changed_body_with_a_used_key_is_refused(stack):
    headers = {**stack.headers("staff"), "Idempotency-Key": "retry-storm-2"}
    body = {"given_name": "Ivo", "family_name": "Keyed", "birth_date": "1971-01-01", "sex": "male"}
    assert requests.post(stack.url + "/patients", json=body, headers=headers, timeout=60).status_code == 201
    changed = requests.post(stack.url + "/patients", json={**body, "given_name": "Other"}, headers=headers, timeout=60)
    assert changed.status_code == 422 and changed.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
