from __future__ import annotations


def test_it_treats_a_forged_session_cookie_as_no_session(client, db):
    client.cookies["sessionid"] = "abc\x00defghijkl"
    response = client.get("/api/v1/products/")
    assert response.status_code in {401, 403}
    assert client.get("/").status_code == 302


def test_it_keeps_a_real_session(client, owner):
    client.force_login(owner)
    assert client.get("/api/v1/products/").status_code == 200
