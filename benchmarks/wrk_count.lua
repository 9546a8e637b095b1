-- Counts the responses that did what the benchmark measures, by status, in every wrk
-- thread, and prints them as one JSON line at the end: wrk's own summary would count a
-- redirect to an error page as a success.
--
-- Arguments after `--`: MODE THREADS [PAYLOAD | TOKENS CSRF_COOKIE CSRF_TOKEN]
--   get      GET the URL (headers from -H); a 200 counts
--   post     POST a one-field form `payload=PAYLOAD` (default hello) to the URL; a 200
--            counts. The payload tags the rows of one run (warm-up or measured).
--   confirm  POST the confirmation of the next fresh draft from TOKENS (lines "draft_id
--            session_cookie"); only a 302 to that draft's /done/ page counts
--
-- Besides the responses it counts the requests it wrote ("sent"): when wrk stops, the
-- requests still in flight (and those whose answer was lost to a socket error) may still
-- do their work on the server uncounted, so the server did at least "ok" and at most
-- "sent" of it.

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  local nthreads = tonumber(args[2])
  ok = 0
  bad = 0
  sent = 0
  statuses = {}
  if mode == "get" then
    req = wrk.format("GET")
  elseif mode == "post" then
    req = wrk.format("POST", nil,
      { ["Content-Type"] = "application/x-www-form-urlencoded" },
      "payload=" .. (args[3] or "hello"))
  elseif mode == "confirm" then
    -- Each thread takes every nthreads-th line, so no two connections share a draft.
    drafts = {}
    local n = 0
    for line in io.lines(args[3]) do
      if n % nthreads == id - 1 then
        local draft, session = line:match("^(%S+) (%S+)$")
        table.insert(drafts, { draft = draft, session = session })
      end
      n = n + 1
    end
    cookie_tail = "; csrftoken=" .. args[4]
    form_body = "csrfmiddlewaretoken=" .. args[5]
    used = 0
    exhausted = wrk.format("GET", "/bench/drafts-exhausted/")
  else
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  if mode ~= "confirm" then
    sent = sent + 1
    return req
  end
  used = used + 1
  local d = drafts[used]
  if d == nil then
    return exhausted
  end
  sent = sent + 1
  return wrk.format("POST", "/f/" .. d.draft .. "/confirm/", {
    ["Cookie"] = "sessionid=" .. d.session .. cookie_tail,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, form_body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  local good
  if mode == "confirm" then
    local location = headers["Location"] or headers["location"] or ""
    good = status == 302 and location:sub(-6) == "/done/"
  else
    good = status == 200
  end
  if good then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_bad, total_sent, merged = 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    total_sent = total_sent + thread:get("sent")
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"ok": %d, "bad": %d, "sent": %d, "statuses": {%s}, "requests": %d, ' ..
    '"duration_us": %d, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_ms": {"p50": %.2f, "p90": %.2f, "p99": %.2f, "max": %.2f}}\n',
    total_ok, total_bad, total_sent, table.concat(parts, ", "), summary.requests,
    summary.duration,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
