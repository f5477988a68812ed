"""What a request may say about a user."""

import pytest

from services.common.errors import ValidationFailed
from services.common.schemas import load
from services.users.schemas import (
    ProfileUpdateSchema,
    RegisteredSchema,
    RegisterSchema,
    UserCreateSchema,
    UserUpdateSchema,
)


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


def test_a_user_s_own_changes_are_their_preferences_password_and_address():
    data = load(
        ProfileUpdateSchema(),
        {
            "name": " Ada ",
            "time_zone": "Europe/Berlin",
            "units": "Wh",
            "theme": "dark",
            "email": " Ada@Example.COM ",
        },
    )
    assert data == {
        "name": "Ada",
        "time_zone": "Europe/Berlin",
        "units": "Wh",
        "theme": "dark",
        "email": "ada@example.com",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus"),
        ("time_zone", "europe/berlin"),
        ("units", "BTU"),
        ("theme", "pink"),
        ("role", "ADMIN"),
        ("password", "short"),
    ],
)
def test_what_a_user_may_not_set_for_themselves_is_refused(field, value):
    with pytest.raises(ValidationFailed) as caught:
        load(ProfileUpdateSchema(), {field: value})
    assert field in caught.value.details


def test_a_change_of_one_s_own_account_names_something():
    with pytest.raises(ValidationFailed):
        load(ProfileUpdateSchema(), {})


def test_a_sign_up_s_answer_says_whether_it_may_log_in_yet():
    user = {"id": "u-1", "email": "ada@example.com", "name": "Ada", "role": "USER"}
    answer = RegisteredSchema().dump(user | {"email_verified": False})
    assert answer == user | {"email_verified": False}
    with pytest.raises(ValidationFailed):
        load(RegisterSchema(), user | {"password": "password1", "email_verified": True})
