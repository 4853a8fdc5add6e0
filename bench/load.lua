-- wrk script for scripts/bench. Arguments: MODE SIZE [MEDIA_ID or UPLOAD_ID]
-- MODE: append (multipart media), base64 (urlencoded media_data), s3part (moto UploadPart),
-- init, status, raw (body only: the sink). Each wrk thread has one connection and its own
-- segment index, so concurrency N stores N segments.
local next_index = 0

function setup(thread)
  thread:set("segment", next_index)
  next_index = next_index + 1
end

function init(args)
  local mode, size, id = args[1], tonumber(args[2]), args[3]
  local payload = string.rep("0123456789abcdef", math.floor(size / 16)) .. string.rep("z", size % 16)
  if mode == "append" then
    local b = "benchboundary7MA4YWxkTrZu0gW"
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. b
    wrk.body = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"command\"\r\n\r\nAPPEND\r\n"
      .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"media_id\"\r\n\r\n" .. id .. "\r\n"
      .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"segment_index\"\r\n\r\n" .. segment .. "\r\n"
      .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"media\"; filename=\"blob\"\r\n"
      .. "Content-Type: application/octet-stream\r\n\r\n" .. payload .. "\r\n--" .. b .. "--\r\n"
  elseif mode == "base64" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    local text = string.rep("QUJD", math.floor(size * 4 / 3 / 4))
    wrk.body = "command=APPEND&media_id=" .. id .. "&segment_index=" .. segment .. "&media_data=" .. text
  elseif mode == "s3part" then
    wrk.method = "PUT"
    wrk.path = "/bench/object?partNumber=" .. (segment + 1) .. "&uploadId=" .. id
    wrk.headers["Content-Type"] = "application/octet-stream"
    wrk.body = payload
  elseif mode == "init" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.body = "command=INIT&total_bytes=1000000&media_type=video%2Fmp4"
  elseif mode == "status" then
    wrk.method = "GET"
    wrk.path = "/1.1/media/upload.json?command=STATUS&media_id=" .. id
  else
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/octet-stream"
    wrk.body = payload
  end
  body_bytes = #(wrk.body or "")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d status_errors=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
