"""template.yaml is generated (infra/generate.py) from infra/base.yaml and the route declaration:
the committed file must be exactly what `make template` writes, and the hand-written part small."""

from __future__ import annotations

from infra import generate
from local_stack import ROOT

# template.yaml when it was written by hand, before the route declaration (commit d5f59cf~1): 2030 lines,
# of which 1891 were YAML (the rest comments and blank lines, which we count on neither side).
V1_TEMPLATE_YAML_LINES = 1891


def _yaml_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def test_the_committed_template_is_what_make_template_writes():
    assert (ROOT / "template.yaml").read_text(encoding="utf-8") == generate.render(), (
        "template.yaml is stale: run `make template`"
    )


def test_the_hand_maintained_part_is_at_most_half_of_the_hand_written_v1_template():
    lines = _yaml_lines((ROOT / "infra" / "base.yaml").read_text(encoding="utf-8"))
    assert lines <= V1_TEMPLATE_YAML_LINES // 2, lines


def test_every_checkov_skip_gives_its_reason():
    import yaml

    skips = yaml.safe_load((ROOT / "infra" / "checkov-skips.yaml").read_text(encoding="utf-8"))
    for target, checks in skips.items():
        for check, reason in checks.items():
            assert check.startswith("CKV") and len(reason) > 20, (target, check)
