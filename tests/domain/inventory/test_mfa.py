"""MFA counts of Graph's userRegistrationDetails report by hand: members only, guests left out; unreadable entries
refused."""

import pytest

from domain.inventory.mfa import MfaFormatError, mfa_coverage
from tests.inventory_mocks import MFA_MEMBERS, MFA_REGISTERED, fixture

USERS = fixture("graph_user_registration_details_page1.json")["value"] + fixture(
    "graph_user_registration_details_page2.json"
)["value"]


def test_members_counted_guests_left_out():
    # Members: Alex (yes), Bianca (yes), Christie (yes, admin), Diego (no), Lee (yes); guests Allan (no), Megan (yes).
    counts = mfa_coverage(USERS)
    assert (counts.members, counts.registered, counts.without_mfa) == (MFA_MEMBERS, MFA_REGISTERED, 1) == (5, 4, 1)
    assert counts.unavailable is None


def test_only_guests_gives_no_members():
    guests = [u for u in USERS if u["userType"] == "guest"]
    assert (mfa_coverage(guests).members, mfa_coverage(guests).registered) == (0, 0)


@pytest.mark.parametrize(
    "user", [{"id": "x", "userType": "member", "isMfaRegistered": None}, {"id": "x", "isMfaRegistered": True}, "x"]
)
def test_an_entry_that_cannot_be_counted_is_refused(user):
    with pytest.raises(MfaFormatError):
        mfa_coverage([user])
