-- wrk script of the inbound benchmark (bench/inbound.ts): POSTs one signed GitHub push payload with a unique
-- X-GitHub-Delivery per request, counts the answers by status, and prints one JSON line at the end.
--
--   wrk ... -s inbound-wrk.lua <url> -- <body file> <X-Hub-Signature-256 value> <run tag: 8 hex digits>
--
-- Delivery ids are UUID-shaped: <run tag>-0000-4000-<thread>-<counter>, unique across threads and runs.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

-- Globals of each thread's own Lua state (read back with thread:get in done()).
statuses = {}
local counter = 0
local headers = {}
local body = ""
local id_prefix = ""

function init(args)
  local file = assert(io.open(args[1], "rb"))
  body = file:read("*a")
  file:close()
  headers["Content-Type"] = "application/json"
  headers["User-Agent"] = "GitHub-Hookshot/bench"
  headers["X-GitHub-Event"] = "push"
  headers["X-Hub-Signature-256"] = args[2]
  id_prefix = string.format("%s-0000-4000-%04x-", args[3], thread_number)
end

function request()
  counter = counter + 1
  headers["X-GitHub-Delivery"] = string.format("%s%012x", id_prefix, counter)
  return wrk.format("POST", nil, headers, body)
end

function response(status, _headers, _body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, _requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'INBOUND_WRK_RESULT {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"meanUs":%.1f,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout, table.concat(parts, ",")))
end
