"""Who may read and answer which interview, once people sign in.

Without sign-in the app is one person's: every interview is theirs. With it, an interview
belongs to the user who started it (their e-mail, lower-cased); only they answer it. A coach
reads, never answers, the interviews of the cohorts that list them (`[[cohorts]]` in
interviewer.toml: coaches by e-mail or "group:NAME" from the group claim, members by e-mail,
"@domain" or "*" for everyone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.config import Cohort, Settings
from agent.storage.transcripts import EVERYONE, Scope


@dataclass(frozen=True)
class Viewer:
    """A signed-in user, as their identity provider describes them."""

    email: str
    groups: frozenset[str] = frozenset()
    name: str = ""

    @classmethod
    def from_claims(cls, claims: Mapping[str, object], group_claim: str = "groups") -> Viewer:
        """The viewer an ID token's claims describe; ValueError when they name nobody."""
        who = claims.get("email") or claims.get("sub")
        if not isinstance(who, str) or not who.strip():
            raise ValueError("the sign-in named no e-mail address or subject")
        if claims.get("email") and claims.get("email_verified") is False:
            # Anyone could otherwise claim another person's address, and their interviews.
            raise ValueError("the identity provider has not verified this e-mail address")
        groups = claims.get(group_claim)
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list | tuple | set | frozenset):
            groups = []
        name = claims.get("name")
        return cls(
            email=who.strip().lower(),
            groups=frozenset(str(g) for g in groups),
            name=name if isinstance(name, str) else "",
        )


def coaches(cohort: Cohort, viewer: Viewer) -> bool:
    """Whether `viewer` is one of the cohort's coaches."""
    for entry in cohort.coaches:
        if entry.startswith("group:"):
            if entry.removeprefix("group:") in viewer.groups:
                return True
        elif entry.strip().lower() == viewer.email:
            return True
    return False


def scope_for(settings: Settings, viewer: Viewer | None) -> Scope:
    """Whose interviews `viewer` may read: everyone's without sign-in; else their own and those
    of the cohorts they coach."""
    if viewer is None:
        return EVERYONE
    owners, domains = {viewer.email}, []
    for cohort in settings.cohorts:
        if not coaches(cohort, viewer):
            continue
        for member in cohort.members:
            member = member.strip().lower()
            if member == "*":
                return EVERYONE
            if member.startswith("@"):
                domains.append(member)
            else:
                owners.add(member)
    return Scope(everyone=False, owners=frozenset(owners), domains=tuple(domains))


def is_coach(settings: Settings, viewer: Viewer | None) -> bool:
    return viewer is not None and any(coaches(c, viewer) for c in settings.cohorts)


def may_read(settings: Settings, viewer: Viewer | None, owner: str | None) -> bool:
    return scope_for(settings, viewer).allows(owner)


def may_answer(viewer: Viewer | None, owner: str | None) -> bool:
    """Only an interview's owner answers it (anyone, without sign-in)."""
    return viewer is None or (owner is not None and owner.lower() == viewer.email)
