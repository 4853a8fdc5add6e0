"""The APPEND mock a developer would otherwise write, a baseline for scripts/bench.

A plain Flask app: Flask/werkzeug parse the multipart (or urlencoded) body, the chunk is read
from `media` (or base64-decoded from `media_data`) and kept in a dict. It is served by
werkzeug's threaded development server, exactly what `flask run` and `app.run(threaded=True)`
use (`make_server(..., threaded=True)` is what both call), so a free port can be picked and
written to the ready file.

Usage: python3 werkzeug_mock.py READY_FILE
"""
import base64
import logging
import os
import sys

from flask import Flask, request
from werkzeug.serving import make_server

app = Flask(__name__)
# Flask 3.1 refuses form fields over 500 kB with 413; a developer mocking 5 MB media_data
# raises the limit, as here.
app.config["MAX_FORM_MEMORY_SIZE"] = 16 * 1024 * 1024
segments = {}


@app.post("/1.1/media/upload.json")
def upload():
    if request.form.get("command") != "APPEND":
        return {"error": "only APPEND is mocked here"}, 400
    key = (request.form["media_id"], int(request.form["segment_index"]))
    if "media" in request.files:
        segments[key] = request.files["media"].read()
    else:
        segments[key] = base64.b64decode(request.form["media_data"])
    return "", 204


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with open(sys.argv[1] + ".tmp", "w") as ready:
        ready.write(f"http://127.0.0.1:{server.server_port}\n")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
