"""Who is calling: the authenticated official, as services see them."""

from dataclasses import dataclass

from schemas.enums import OrgKind, Role


@dataclass(frozen=True)
class Caller:
    official_id: str
    org_id: str
    org_kind: str
    role: str
    kid: str  # the signing key that authenticated this session (the client assertion's)

    @property
    def is_agency(self) -> bool:
        return self.org_kind == OrgKind.AGENCY

    @property
    def is_platform(self) -> bool:
        return self.org_kind == OrgKind.PLATFORM

    @property
    def is_lead(self) -> bool:
        return self.role == Role.PLATFORM_LEAD

    @property
    def is_auditor(self) -> bool:
        return self.role == Role.AUDITOR
