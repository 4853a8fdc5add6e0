-- wrk script for scripts/bench. Builds each thread's request once (wrk.body), so wrk only
-- writes bytes; every wrk thread has one keep-alive connection (-t N -c N).
--
-- Arguments (after --): MODE PAYLOAD_FILE ID EXPECTED_STATUS CHECK [BOUNDARY]
--   MODE       raw      POST of the payload as is (the sinks)
--              append   multipart APPEND: command, media_id, segment_index, `media` file part
--              v2append multipart X API v2 append (the URL's path names the media id):
--                       segment_index, `media` file part
--              b64form  urlencoded APPEND with `media_data` (base64, percent-encoded as
--                       form encoders such as Python requests do: + / = become %2B %2F %3D)
--              b64mp    multipart APPEND with `media_data` as a text field
--              v2json   X API v2 JSON append as xdk sends it: {"media": "<base64>", "segment_index": N}
--              v2jsonesc  the same with every `/` escaped as `\/` (PHP's json_encode and others)
--              s3part   S3 UploadPart: PUT /bench/object?partNumber=N&uploadId=ID, raw body
--              init     urlencoded INIT of a video (no payload)
--              status   GET STATUS of ID (no payload)
--              empty    GET of the URL (no payload): the sinks' small-request ceiling
--   PAYLOAD_FILE  the payload bytes (random; base64 text for b64* and v2json*), or "-"
--   ID         media_id (mock, werkzeug) or uploadId (moto)
--   EXPECTED_STATUS  status every response must have (checked only when CHECK is 1)
--   CHECK      1: record each response's status (costs time: used for warm-up and --quick)
--   BOUNDARY   the multipart boundary (default: 32 hex characters, as Python requests sends)
-- Thread i (from 0) uses segment_index i (partNumber i+1), so concurrency N stores N segments
-- and each thread re-sends its own segment (a repeated index replaces the stored bytes).

local threads = {}

function setup(thread)
  thread:set("segment", #threads)
  table.insert(threads, thread)
end

local function read_file(path)
  if path == "-" then return "" end
  local file = assert(io.open(path, "rb"))
  local data = file:read("*a")
  file:close()
  return data
end

local function part(boundary, name, value, extra)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"" .. (extra or "")
    .. "\r\n\r\n" .. value .. "\r\n"
end

function init(args)
  local mode, payload, id = args[1], read_file(args[2]), args[3]
  expected = tonumber(args[4])
  local boundary = args[6] or "8d5c0e4f2b7a41c3a9e6d1f0b2c4e6a8"
  if mode == "v2append" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    wrk.body = part(boundary, "segment_index", tostring(segment))
      .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"media\"; filename=\"blob\"\r\n"
      .. "Content-Type: application/octet-stream\r\n\r\n" .. payload .. "\r\n--" .. boundary .. "--\r\n"
  elseif mode == "append" or mode == "b64mp" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
    local media
    if mode == "append" then
      media = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"media\"; filename=\"blob\"\r\n"
        .. "Content-Type: application/octet-stream\r\n\r\n" .. payload .. "\r\n"
    else
      media = part(boundary, "media_data", payload)
    end
    wrk.body = part(boundary, "command", "APPEND") .. part(boundary, "media_id", id)
      .. part(boundary, "segment_index", tostring(segment)) .. media .. "--" .. boundary .. "--\r\n"
  elseif mode == "v2json" or mode == "v2jsonesc" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    local media = payload
    if mode == "v2jsonesc" then media = payload:gsub("/", "\\/") end
    wrk.body = '{"media": "' .. media .. '", "segment_index": ' .. segment .. '}'
  elseif mode == "b64form" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    local escaped = payload:gsub("[+/=]", { ["+"] = "%2B", ["/"] = "%2F", ["="] = "%3D" })
    wrk.body = "command=APPEND&media_id=" .. id .. "&segment_index=" .. segment .. "&media_data=" .. escaped
  elseif mode == "s3part" then
    wrk.method = "PUT"
    wrk.path = "/bench/object?partNumber=" .. (segment + 1) .. "&uploadId=" .. id
    wrk.headers["Content-Type"] = "application/octet-stream"
    wrk.body = payload
  elseif mode == "init" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.body = "command=INIT&total_bytes=1048576&media_type=video%2Fmp4&media_category=tweet_video"
  elseif mode == "status" then
    wrk.method = "GET"
    wrk.path = "/1.1/media/upload.json?command=STATUS&media_id=" .. id
  elseif mode == "empty" then
    wrk.method = "GET"
  elseif mode == "raw" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/octet-stream"
    wrk.body = payload
  else
    error("unknown mode " .. tostring(mode))
  end
  body_bytes = #(wrk.body or "")
  checked, unexpected, unexpected_status, unexpected_body = 0, 0, 0, ""
  if args[5] == "1" then
    -- Defined only when checking: wrk parses headers and bodies into Lua only if it exists.
    response = function(status, headers, body)
      checked = checked + 1
      if status ~= expected then
        unexpected = unexpected + 1
        unexpected_status = status
        if unexpected_body == "" then unexpected_body = (body or ""):sub(1, 200) end
      end
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local bytes, checked_total, unexpected_total, status, body = 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    bytes = thread:get("body_bytes")  -- the same length on every thread
    checked_total = checked_total + thread:get("checked")
    unexpected_total = unexpected_total + thread:get("unexpected")
    if thread:get("unexpected") > 0 then
      status, body = thread:get("unexpected_status"), thread:get("unexpected_body")
    end
  end
  io.write(string.format(
    "RESULT requests=%d duration_us=%d body_bytes=%d status_errors=%d socket_errors=%d"
      .. " p50_us=%d p90_us=%d p99_us=%d max_us=%d checked=%d unexpected=%d unexpected_status=%d\n",
    summary.requests, summary.duration, bytes, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    checked_total, unexpected_total, status))
  if body ~= "" then io.write("UNEXPECTED_BODY " .. body:gsub("[\r\n]", " ") .. "\n") end
end
