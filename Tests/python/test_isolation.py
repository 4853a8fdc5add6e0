"""README, Isolation: parallel test workers sharing one server each see only their own uploads,
journal, rules and reset, scoped by the credential their client already sends."""
import requests
from requests_oauthlib import OAuth1



def scoped(server, token):
    """Admin calls as one worker makes them: the credential's token in X-Mock-Scope."""
    def call(path, method="GET", **kwargs):
        return server.admin(path, method=method, headers={"X-Mock-Scope": token}, **kwargs)
    return call


def init_as(server, auth, total=4):
    response = requests.post(server.upload_url, auth=auth,
                             data={"command": "INIT", "total_bytes": total, "media_type": "video/mp4"})
    assert response.status_code == 202, response.text
    return response.json()["media_id_string"]



def test_two_workers_see_only_their_own_uploads_journal_rules_and_reset(mock):
    bob = {"Authorization": "Bearer worker-b"}
    # Auth is off: a bearer token on v1.1 is still refused (it is a kind v1.1 never takes), so
    # worker A uses OAuth 1.0a, whose oauth_token is its scope, and worker B the v2 API.
    worker_a = OAuth1("ck", "cs", "worker-a", "ts")
    a_id = init_as(mock, worker_a)
    b_id = requests.post(mock.url("/2/media/upload/initialize"), headers=bob,
                         json={"media_type": "video/mp4", "total_bytes": 4, "media_category": "tweet_video"}).json()["data"]["id"]
    admin_a, admin_b = scoped(mock, "worker-a"), scoped(mock, "worker-b")

    assert [u["media_id_string"] for u in admin_a("/uploads").json()["uploads"]] == [a_id]
    assert [u["media_id_string"] for u in admin_b("/uploads").json()["uploads"]] == [b_id]
    assert admin_a(f"/uploads/{b_id}").status_code == 404
    assert admin_b(f"/uploads/{b_id}").status_code == 200
    assert {u["media_id_string"] for u in mock.admin("/uploads").json()["uploads"]} == {a_id, b_id}, "unscoped sees all"
    assert [e["scope"] for e in admin_a("/requests").json()["requests"]] == ["worker-a"]
    assert admin_b("/requests/count").json() == {"count": 1}

    # A fault added by worker A fires only on worker A's requests.
    rule = admin_a("/faults", method="POST", json={"match": {"command": "APPEND"}, "action": {"status": 503}}).json()
    assert rule["scope"] == "worker-a"
    assert admin_b("/faults").json()["faults"] == []
    a_append = requests.post(mock.upload_url, auth=worker_a, files={
        "command": (None, "APPEND"), "media_id": (None, a_id), "segment_index": (None, "0"), "media": ("blob", b"abcd")})
    assert a_append.status_code == 503
    b_append = requests.post(mock.url(f"/2/media/upload/{b_id}/append"), headers=bob,
                             files={"segment_index": (None, "0"), "media": ("blob", b"abcd")})
    assert b_append.status_code == 200

    # Worker A's reset forgets only what is its own.
    assert admin_a("/reset", method="POST").status_code == 200
    assert admin_a("/uploads").json()["uploads"] == [] and admin_a("/faults").json()["faults"] == []
    assert admin_a("/requests/count").json() == {"count": 0}
    assert [u["media_id_string"] for u in admin_b("/uploads").json()["uploads"]] == [b_id]
    assert admin_b("/requests/count").json() == {"count": 2}
    assert len(mock.admin("/rate-limits").json()["rate_limits"]) > 0, "the startup rules are untouched"


def test_default_rate_limits_count_each_credential_apart_without_authentication(mock):
    mock.admin("/rate-limits", method="DELETE")
    mock.admin("/rate-limits", method="POST", json={"match": {"command": "INIT"}, "limit": 1, "window_secs": 60})
    init_as(mock, OAuth1("ck", "cs", "worker-a", "ts"))
    init_as(mock, OAuth1("ck", "cs", "worker-b", "ts"))
    refused = requests.post(mock.upload_url, auth=OAuth1("ck", "cs", "worker-a", "ts"),
                            data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    assert refused.status_code == 429
    # Requests that carry no credential at all share one count.
    init_as(mock, None)
    anonymous = requests.post(mock.upload_url, data={"command": "INIT", "total_bytes": 1, "media_type": "video/mp4"})
    assert anonymous.status_code == 429


def test_media_ids_never_repeat_after_a_reset(mock):
    seen = set()
    for _ in range(3):
        for _ in range(20):
            media_id = init_as(mock, None)
            assert media_id not in seen
            seen.add(media_id)
        mock.admin("/reset", method="POST")
    assert all(int(i) > 2 ** 53 for i in seen), "real-sized ids catch clients that read media_id as a double"
