"""Real client libraries against the mock over HTTPS, then the admin API checks the bytes."""
import hashlib
import os
import subprocess
import sys

import pytest
import requests
import tweepy

from conftest import FIXTURES

MEDIA = FIXTURES / "media"
TLS = FIXTURES / "tls"


@pytest.fixture
def tls_mock(start_mock):
    return start_mock({"processing": {"check_after_secs": 0, "polls_until_done": 2}},
                      args=["--tls-cert", str(TLS / "server.pem"), "--tls-key", str(TLS / "server-key.pem")])


def tweepy_api(server, **options):
    api = tweepy.API(tweepy.OAuth1UserHandler("consumer-key", "consumer-secret", "token", "token-secret"),
                     upload_host=f"localhost:{server.port}", **options)
    api.session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    api.session.verify = str(TLS / "ca.pem")  # trust only the test CA
    return api


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_listening_line_says_https(tls_mock):
    assert tls_mock.stdout_line == f"listening on https://127.0.0.1:{tls_mock.port}"
    assert requests.get(tls_mock.url("/__admin/health"), verify=str(TLS / "ca.pem")).json() == {"status": "ok"}


def test_tweepy_chunked_upload_video(tls_mock):
    api = tweepy_api(tls_mock)
    # media_type is required, as on the real service: chunked_upload needs file_type.
    media = api.chunked_upload(str(MEDIA / "clip.mp4"), file_type="video/mp4", media_category="tweet_video",
                               chunk_size=256 * 1024)
    assert media.processing_info["state"] == "succeeded"
    detail = requests.get(tls_mock.url(f"/__admin/uploads/{media.media_id_string}"), verify=str(TLS / "ca.pem")).json()
    assert detail["state"] == "succeeded"
    assert len(detail["segments"]) == 6
    assert detail["sha256"] == sha256(MEDIA / "clip.mp4")
    assert detail["md5"] == hashlib.md5((MEDIA / "clip.mp4").read_bytes()).hexdigest()


def test_tweepy_simple_and_chunked_images(tls_mock):
    api = tweepy_api(tls_mock)
    png = api.simple_upload(str(MEDIA / "pixel.png"))
    assert png.image == {"image_type": "image/png", "w": 300, "h": 200}
    gif = api.media_upload(str(MEDIA / "animated.gif"), chunked=True, media_category="tweet_gif")
    assert gif.processing_info["state"] == "succeeded"
    for media, name in ((png, "pixel.png"), (gif, "animated.gif")):
        detail = requests.get(tls_mock.url(f"/__admin/uploads/{media.media_id_string}"), verify=str(TLS / "ca.pem")).json()
        assert detail["sha256"] == sha256(MEDIA / name)


def test_python_twitter_tools_simple_upload(tls_mock):
    # The `twitter` package uses urllib, which trusts SSL_CERT_FILE: run it in its own process.
    script = (
        "import json, sys, twitter\n"
        "auth = twitter.OAuth('token', 'token-secret', 'consumer-key', 'consumer-secret')\n"
        f"client = twitter.Twitter(domain='localhost:{tls_mock.port}', auth=auth, secure=True)\n"
        f"data = open({str(MEDIA / 'photo.jpg')!r}, 'rb').read()\n"
        "print(json.dumps(dict(client.media.upload(media=data))))\n"
    )
    env = {**os.environ, "SSL_CERT_FILE": str(TLS / "ca.pem")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stderr
    assert '"image_type": "image/jpeg", "w": 640, "h": 480' in result.stdout
