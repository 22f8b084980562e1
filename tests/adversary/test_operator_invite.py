"""The operator invites an official of their own into a platform and enrolls them.

Until the platform's leads sign their own membership (issue 13, part 2, branch issue-13b),
the log shows the invitation but nothing makes a client refuse it: the agency encrypts to
the operator's official too. This test states what must hold once that rule lands.
"""

import pytest

from tests.adversary.conftest import case_body, recipient_kids

pytestmark = pytest.mark.slow


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="needs the lead-approval rule of issue 13 part 2 (branch issue-13b):"
    " remove this mark when it is merged",
)
def test_an_official_invited_by_the_operator_alone_receives_no_case(bare_stage, tmp_path):
    stage = bare_stage
    stage.enroll("clipshare", "rogue", "platform_official")
    stage.proxy.forwarded.clear()
    stage.client("officer", tmp_path / "officer").submit(case_body(), "clipshare")
    (posted,) = stage.proxy.posted("/v1/cases")
    assert stage.kid("rogue", "enc") not in recipient_kids(posted)
