from dataclasses import dataclass
from typing import Any

import pytest

from exchange.protocol import envelope as env
from keys import Identity
from tests.schemas import examples


@dataclass
class Party:
    org: str
    official: str
    identity: Identity

    @property
    def signing_keys(self) -> dict[str, Any]:
        return {self.identity.signing_kid: self.identity.signing_public_key}

    def sender(self) -> dict[str, str]:
        return {"org": self.org, "official": self.official, "kid": self.identity.signing_kid}


@pytest.fixture(scope="session")
def agency() -> Party:
    return Party(examples.AGENCY, examples.AGENCY_OFFICIAL, Identity.generate())


@pytest.fixture(scope="session")
def platform() -> Party:
    return Party(examples.PLATFORM, examples.PLATFORM_OFFICIAL, Identity.generate())


@pytest.fixture(scope="session")
def outsider() -> Party:
    return Party("other-platform", "mallory", Identity.generate())


@pytest.fixture
def case_record(agency: Party) -> dict[str, Any]:
    record = examples.case_record()
    record["sender"] = agency.sender()
    return record


@pytest.fixture
def sealed(agency: Party, platform: Party, case_record: dict[str, Any]) -> env.Envelope:
    recipients = [platform.identity.encryption_public_key, agency.identity.encryption_public_key]
    return env.seal(case_record, agency.identity.signing_key, recipients)
