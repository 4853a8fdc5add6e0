"""The APPEND mock a developer would otherwise write: Flask parses the multipart body and keeps
each chunk in a dict. Served by werkzeug's threaded server, as `flask run` does."""
import sys

from flask import Flask, request

app = Flask(__name__)
segments = {}


@app.post("/1.1/media/upload.json")
def upload():
    if request.form.get("command") != "APPEND":
        return {"error": "only APPEND"}, 400
    key = (request.form["media_id"], int(request.form["segment_index"]))
    segments[key] = request.files["media"].read()
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
