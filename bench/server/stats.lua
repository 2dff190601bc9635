-- wrk script of bench/server/run.sh: sends the request described by the environment (BENCH_METHOD, BENCH_PATHS:
-- request paths separated by '|', cycled; BENCH_BODIES: a file of JSON bodies, one per line, cycled) and prints one
-- machine-readable RESULT line with requests/s, latency percentiles and the count of every HTTP status seen.
local method = os.getenv("BENCH_METHOD") or "GET"
local paths, bodies = {}, {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/health", "[^|]+") do paths[#paths + 1] = p end
local file = os.getenv("BENCH_BODIES")
if file and #file > 0 then
  for line in io.lines(file) do if #line > 0 then bodies[#bodies + 1] = line end end
end
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  statuses = {}
  n = offset
end

function request()
  n = n + 1
  local path = paths[(n % #paths) + 1]
  if #bodies > 0 then
    return wrk.format(method, path, { ["Content-Type"] = "application/json" }, bodies[(n % #bodies) + 1])
  end
  return wrk.format(method, path)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f socket_errors=%d timeouts=%d",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write, e.timeout))
  for status, count in pairs(total) do io.write(string.format(" status_%d=%d", status, count)) end
  io.write("\n")
end
