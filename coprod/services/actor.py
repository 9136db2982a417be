"""Who is acting: passed into every service that changes state, and written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field

from coprod.models import Role, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    organisation_id: int | None
    roles: frozenset[Role] = field(default_factory=frozenset)
    via: str = "web"  # web | api | worker | cli
    network_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        if self.user is None:
            return f"system ({self.via})"
        return f"{self.user.full_name} <{self.user.email}>"

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @classmethod
    def system(cls, via: str = "worker", organisation_id: int | None = None) -> Actor:
        return cls(user=None, organisation_id=organisation_id, via=via)
