"""template.yaml is generated (infra/generate.py) from infra/base.yaml and the route declaration:
the committed file must be exactly what `make template` writes, and the hand-written part small."""

from __future__ import annotations

from infra import generate
from local_stack import ROOT

V1_TEMPLATE_LINES = 2030  # template.yaml when it was written by hand, before the route declaration


def test_the_committed_template_is_what_make_template_writes():
    assert (ROOT / "template.yaml").read_text(encoding="utf-8") == generate.render(), \
        "template.yaml is stale: run `make template`"


def test_the_hand_maintained_part_is_at_most_half_of_the_hand_written_v1_template():
    lines = len((ROOT / "infra" / "base.yaml").read_text(encoding="utf-8").splitlines())
    assert lines <= V1_TEMPLATE_LINES // 2, lines


def test_every_checkov_skip_gives_its_reason():
    import yaml

    skips = yaml.safe_load((ROOT / "infra" / "checkov-skips.yaml").read_text(encoding="utf-8"))
    for target, checks in skips.items():
        for check, reason in checks.items():
            assert check.startswith("CKV") and len(reason) > 20, (target, check)
