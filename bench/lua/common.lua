-- Shared by every wrk script of bench/run.sh (loaded with dofile).
-- Environment: BENCH_TOKEN (sent as X-Auth-Token, omitted if empty),
-- BENCH_HDRS (extra "Name: value" headers separated by '|', e.g. Glance's
-- noauth X-Roles), BENCH_IDS (file with one image id per line).
-- done() prints one machine-readable line that run.sh parses:
--   BENCH rps=<req/s> p50_ms=.. p99_ms=.. requests=N non2xx=N errors=N codes=<code:count,...>

statuses = {}        -- per thread: HTTP status -> count

function bench_headers(extra)
   local h = extra or {}
   local tok = os.getenv("BENCH_TOKEN")
   if tok and tok ~= "" then h["X-Auth-Token"] = tok end
   local more = os.getenv("BENCH_HDRS")
   if more and more ~= "" then
      for kv in string.gmatch(more, "[^|]+") do
         local k, v = string.match(kv, "^%s*([^:]+):%s*(.*)$")
         if k then h[k] = v end
      end
   end
   return h
end

function bench_load_ids()
   local ids = {}
   local f = assert(io.open(assert(os.getenv("BENCH_IDS"), "BENCH_IDS unset"), "r"))
   for line in f:lines() do
      if #line > 0 then ids[#ids + 1] = line end
   end
   f:close()
   assert(#ids > 0, "no ids in BENCH_IDS")
   return ids
end

bench_threads = {}
function setup(thread)
   bench_threads[#bench_threads + 1] = thread
   thread:set("tid", #bench_threads)
end

function bench_count(status)
   statuses[status] = (statuses[status] or 0) + 1
end

function response(status, headers, body)
   bench_count(status)
   if bench_after then bench_after(status) end
end

function done(summary, latency, requests)
   local codes = {}
   for _, t in ipairs(bench_threads) do
      local s = t:get("statuses")
      if s then
         for k, v in pairs(s) do codes[k] = (codes[k] or 0) + v end
      end
   end
   local keys = {}
   for k in pairs(codes) do keys[#keys + 1] = k end
   table.sort(keys)
   local parts = {}
   for _, k in ipairs(keys) do parts[#parts + 1] = k .. ":" .. codes[k] end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f requests=%d secs=%.2f non2xx=%d errors=%d codes=%s\n",
      summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, summary.requests, secs, e.status,
      e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
