"""docs/ci.md's curl, Node, node-twitter-api-v2 and pytest recipes, run exactly as written against the built
server (the node-twitter-api-v2 file itself only parsed: see its test)."""
import os
import ssl
import subprocess
import sys

import pytest

from ci_recipes import NOT_RUN, RUN_BY_SCRIPTS_TEST, RUN_BY_TEST_PACKAGE, recipes
from conftest import BINARY, FIXTURES, REPO

RECIPES = recipes()


def environment(tmp_path, **extra):
    """PATH with `twitter-upload-mock` on it, as the tarball or the wheel would put it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "twitter-upload-mock").exists():
        (bin_dir / "twitter-upload-mock").symlink_to(BINARY)
    base = {k: v for k, v in os.environ.items() if k not in ("UPLOAD_MOCK_URL", "TWITTER_UPLOAD_MOCK_BIN")}
    return {**base, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **extra}


def run(command, tmp_path, **extra):
    return subprocess.run(command, cwd=tmp_path, env=environment(tmp_path, **extra), capture_output=True,
                          text=True, timeout=120)


def test_every_recipe_is_run():
    assert set(RECIPES) == RUN_BY_SCRIPTS_TEST | RUN_BY_TEST_PACKAGE | NOT_RUN


def test_curl_recipe_starts_its_own_server(tmp_path):
    (tmp_path / "upload-smoke.sh").write_text(RECIPES["curl"])
    result = run(["sh", "upload-smoke.sh"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "arrived byte for byte" in result.stdout


def test_curl_recipe_against_a_running_server(tmp_path, mock):
    (tmp_path / "upload-smoke.sh").write_text(RECIPES["curl"])
    result = run(["sh", "upload-smoke.sh"], tmp_path, UPLOAD_MOCK_URL=mock.base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    [upload] = mock.admin("/uploads").json()["uploads"]
    assert (upload["state"], upload["total_bytes"]) == ("finalized", 300_000)


def test_curl_recipe_fails_loudly_on_a_refused_segment(tmp_path, mock):
    mock.admin("/faults", method="POST", json={"match": {"command": "APPEND", "segment_index": 1},
                                                "action": {"status": 503}, "times": 1})
    (tmp_path / "upload-smoke.sh").write_text(RECIPES["curl"])
    result = run(["sh", "upload-smoke.sh"], tmp_path, UPLOAD_MOCK_URL=mock.base_url)
    assert result.returncode != 0


def test_node_recipe(tmp_path):
    (tmp_path / "upload.test.mjs").write_text(RECIPES["node"])
    result = run(["node", "--test", "upload.test.mjs"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 1" in result.stdout and "# fail 0" in result.stdout


def test_pytest_recipe_with_the_plugin_from_source(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_upload.py").write_text(RECIPES["pytest"])
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "twitter_upload_mock.plugin",
                  "tests"], tmp_path, PYTHONPATH=str(REPO / "python" / "src"), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


# What node-twitter-api-v2 1.28 does for every request (src/client-mixins/request-handler.helper.ts):
# https.request({ method, headers, agent: settings.httpAgent, host: url.hostname,
# port: url.port || undefined, path, protocol }), to https://upload.x.com/1.1/ and https://api.x.com/2/.
# The library cannot be installed here (no npm registry): this drives the recipe's agent that way.
AS_NODE_TWITTER_API_V2_SENDS = r'''
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:https";
import { createHash, randomBytes } from "node:crypto";
import { mockAgent } from "./mock-agent.mjs";

const agent = mockAgent();
const video = randomBytes(300_000);
const sha256 = createHash("sha256").update(video).digest("hex");

function send(url, method, headers = {}, body) {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ method, headers, agent, host: target.hostname, port: target.port || undefined,
                          path: target.pathname + target.search, protocol: target.protocol });
    req.on("response", (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function multipart(fields, media) {
  const boundary = "----mock" + randomBytes(8).toString("hex");
  const parts = Object.entries(fields).map(([name, value]) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const body = Buffer.concat([Buffer.from(parts.join("") + `--${boundary}\r\nContent-Disposition: form-data; ` +
    `name="media"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n`), media,
    Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": body.length } };
}

async function reported(id) {
  return (await (await fetch(`${process.env.UPLOAD_MOCK_URL}/__admin/uploads/${id}`)).json()).sha256;
}

test("v1.1 through https://upload.x.com/1.1/", async () => {
  const url = "https://upload.x.com/1.1/media/upload.json";
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const init = await send(url, "POST", form, `command=INIT&total_bytes=${video.length}&media_type=video%2Fmp4`);
  assert.equal(init.status, 202, init.text);
  const id = JSON.parse(init.text).media_id_string;
  for (const [index, start] of [0, 150_000].entries()) {
    const { body, headers } = multipart({ command: "APPEND", media_id: id, segment_index: index },
                                        video.subarray(start, start + 150_000));
    assert.equal((await send(url, "POST", headers, body)).status, 204);
  }
  assert.equal((await send(url, "POST", form, `command=FINALIZE&media_id=${id}`)).status, 201);
  assert.equal(await reported(id), sha256);
});

test("v2 through https://api.x.com/2/", async () => {
  const init = await send("https://api.x.com/2/media/upload/initialize", "POST", { "content-type": "application/json" },
                          JSON.stringify({ media_type: "video/mp4", total_bytes: video.length, media_category: "tweet_video" }));
  assert.equal(init.status, 200, init.text);
  const id = JSON.parse(init.text).data.id;
  for (const [index, start] of [0, 150_000].entries()) {
    const { body, headers } = multipart({ segment_index: index }, video.subarray(start, start + 150_000));
    assert.equal((await send(`https://api.x.com/2/media/upload/${id}/append`, "POST", headers, body)).status, 200);
  }
  assert.equal((await send(`https://api.x.com/2/media/upload/${id}/finalize`, "POST")).status, 200);
  assert.equal(await reported(id), sha256);
});

test("the handshake still verifies the host the URL names", async () => {
  await assert.rejects(send("https://example.com/2/media/upload?media_id=1", "GET"), { code: "ERR_TLS_CERT_ALTNAME_INVALID" });
});
'''


def node_twitter_api_v2_workspace(tmp_path):
    (tmp_path / "mock-agent.mjs").write_text(RECIPES["node-mock-agent"])
    (tmp_path / "as-node-twitter-api-v2.test.mjs").write_text(AS_NODE_TWITTER_API_V2_SENDS)
    (tmp_path / "twitter-api-v2.test.mjs").write_text(RECIPES["node-twitter-api-v2"])


@pytest.mark.parametrize("certificate", ["--tls-self-signed", "Fixtures/tls/server.pem"])
def test_the_node_twitter_api_v2_agent_reaches_the_mock_for_the_real_hosts(tmp_path, start_mock, certificate):
    if certificate == "--tls-self-signed":
        server, ca = start_mock(args=["--tls-self-signed", str(tmp_path / "tls")]), tmp_path / "tls" / "ca.pem"
    else:
        tls = FIXTURES / "tls"
        server, ca = start_mock(args=["--tls-cert", str(tls / "server.pem"), "--tls-key", str(tls / "server-key.pem")]), tls / "ca.pem"
    node_twitter_api_v2_workspace(tmp_path)
    result = run(["node", "--test", "as-node-twitter-api-v2.test.mjs"], tmp_path,
                 UPLOAD_MOCK_URL=server.base_url, NODE_EXTRA_CA_CERTS=str(ca))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 3" in result.stdout and "# fail 0" in result.stdout
    assert [u["state"] for u in server.admin("/uploads", verify=str(ca)).json()["uploads"]] == ["finalized", "processing"]
    # NODE_EXTRA_CA_CERTS is what makes Node trust the mock.
    untrusted = run(["node", "--test", "as-node-twitter-api-v2.test.mjs"], tmp_path, UPLOAD_MOCK_URL=server.base_url)
    assert untrusted.returncode != 0 and "# pass 0" in untrusted.stdout
    assert "SELF_SIGNED_CERT_IN_CHAIN" in untrusted.stdout or "UNABLE_TO_VERIFY_LEAF_SIGNATURE" in untrusted.stdout


def test_the_node_twitter_api_v2_file_parses(tmp_path):
    """The library's own file is only parsed here (no npm registry); it uses the agent recipe."""
    node_twitter_api_v2_workspace(tmp_path)
    result = run(["node", "--check", "twitter-api-v2.test.mjs"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'httpAgent: mockAgent()' in RECIPES["node-twitter-api-v2"]


def test_the_test_certificate_names_what_the_generated_one_names(tmp_path, start_mock):
    server = start_mock(args=["--tls-self-signed", str(tmp_path / "tls")])
    served = tmp_path / "served.pem"
    served.write_text(ssl.get_server_certificate(("127.0.0.1", server.port)))
    def names(path):
        return sorted(ssl._ssl._test_decode_cert(str(path))["subjectAltName"])
    assert names(served) == names(FIXTURES / "tls" / "server.pem")
    assert ("DNS", "upload.x.com") in names(served) and ("DNS", "api.twitter.com") in names(served)
