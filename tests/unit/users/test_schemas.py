"""What a request may say about a user."""

import pytest

from services.common.errors import ValidationFailed
from services.common.schemas import load
from services.users.schemas import RegisterSchema, UserCreateSchema, UserUpdateSchema


def test_register_takes_no_role():
    with pytest.raises(ValidationFailed) as caught:
        load(
            RegisterSchema(),
            {"email": "a@b.cd", "password": "password1", "name": "A", "role": "ADMIN"},
        )
    assert "role" in caught.value.details


def test_emails_are_normalized():
    data = load(
        RegisterSchema(),
        {"email": " Ada@Example.COM", "password": "password1", "name": " Ada "},
    )
    assert (data["email"], data["name"]) == ("ada@example.com", "Ada")


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "not-an-email", "password": "password1", "name": "A"},
        {"email": "a@b.cd", "password": "short", "name": "A"},
        {"email": "a@b.cd", "password": "password1", "name": ""},
        {"email": "a@b.cd", "password": "password1", "name": "A", "role": "ROOT"},
    ],
)
def test_bad_accounts_are_refused(changes):
    with pytest.raises(ValidationFailed):
        load(UserCreateSchema(), changes)


def test_created_users_default_to_user():
    data = load(
        UserCreateSchema(), {"email": "a@b.cd", "password": "password1", "name": "A"}
    )
    assert data["role"] == "USER"


def test_an_update_changes_something():
    with pytest.raises(ValidationFailed):
        load(UserUpdateSchema(), {})
    assert load(UserUpdateSchema(), {"role": "OPERATOR"}) == {"role": "OPERATOR"}
