"""What an auth process remembers of users and tokens: kept only while it hears
authdb's notifications, forgotten by them, never kept across one."""

from services.auth.identities import MAX_REMEMBERED, Identities, dsn


def listening() -> Identities:
    identities = Identities()
    identities.listening = True
    return identities


def test_a_value_is_read_once_while_listening():
    identities = listening()
    reads = []

    def load():
        reads.append(1)
        return ("USER", 1)

    assert identities.credential("u-1", load) == ("USER", 1)
    assert identities.credential("u-1", load) == ("USER", 1)
    assert len(reads) == 1


def test_nothing_is_remembered_while_not_listening():
    identities = Identities()
    reads = []
    for _ in range(2):
        identities.is_revoked("j-1", lambda: reads.append(1) or False)
    assert len(reads) == 2


def test_a_notification_forgets_its_user_or_token_only():
    identities = listening()
    identities.credential("u-1", lambda: ("USER", 1))
    identities.credential("u-2", lambda: ("USER", 1))
    identities.is_revoked("j-1", lambda: False)
    identities.forget("user:u-1")
    assert identities.credential("u-1", lambda: ("OPERATOR", 2)) == ("OPERATOR", 2)
    assert identities.credential("u-2", lambda: None) == ("USER", 1)
    identities.forget("jti:j-1")
    assert identities.is_revoked("j-1", lambda: True) is True


def test_a_value_read_while_a_notification_came_is_not_kept():
    identities = listening()

    def load_across_a_change():
        identities.forget("user:u-1")  # committed elsewhere while we read
        return ("ADMIN", 1)

    assert identities.credential("u-1", load_across_a_change) == ("ADMIN", 1)
    assert identities.credential("u-1", lambda: None) is None


def test_an_unknown_notification_forgets_everything():
    identities = listening()
    identities.credential("u-1", lambda: ("USER", 1))
    identities.forget("something else")
    assert identities.credential("u-1", lambda: None) is None


def test_an_absent_user_is_remembered_as_absent():
    identities = listening()
    identities.credential("gone", lambda: None)
    assert identities.credential("gone", lambda: ("USER", 1)) is None


def test_too_many_values_start_over():
    identities = listening()
    for n in range(MAX_REMEMBERED):
        identities.revoked[f"j-{n}"] = False
    identities.is_revoked("one more", lambda: False)
    assert list(identities.revoked) == ["one more"]


def test_the_listening_address_is_psycopg2s():
    assert (
        dsn("postgresql+psycopg2://ems:secret@127.0.0.1:5432/authdb")
        == "postgresql://ems:secret@127.0.0.1:5432/authdb"
    )
