-- POST /v2/images until this thread has BENCH_QUOTA responses.
-- Names are <BENCH_PREFIX>-<thread>-<n>, unique per image.
-- wrk cannot stop on a request count, so each thread that reaches its quota
-- stops itself and touches BENCH_DONE_DIR/<thread>; run.sh waits for all
-- markers and sends wrk SIGINT, which makes it print its report at once.
-- The rate printed (CREATE line) is responses / (last thread's end - start),
-- measured with CLOCK_MONOTONIC, so polling delay does not count. Up to one
-- request per connection may still be in flight when a thread stops, so the
-- server can hold slightly more images than asked; run.sh counts them.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *ts);
]]
local function now_s()
   local ts = ffi.new("bench_timespec")
   ffi.C.clock_gettime(1, ts)
   return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local hdrs, n, quota, prefix
got, ok, t_start, t_end = 0, 0, nil, nil    -- read by done() via thread:get

function init(args)
   hdrs = bench_headers({["Content-Type"] = "application/json"})
   quota = tonumber(os.getenv("BENCH_QUOTA") or "5000")
   prefix = os.getenv("BENCH_PREFIX") or "bench"
   n = 0
end

function request()
   if not t_start then t_start = now_s() end
   n = n + 1
   local body = string.format(
      '{"name":"%s-%d-%d","disk_format":"raw","container_format":"bare"}', prefix, tid or 0, n)
   return wrk.format("POST", "/v2/images", hdrs, body)
end

function bench_after(status)
   if got >= quota then return end
   got = got + 1
   if status == 201 then ok = ok + 1 end
   if got == quota then
      t_end = now_s()
      local dir = os.getenv("BENCH_DONE_DIR")
      if dir then
         local f = io.open(dir .. "/" .. tostring(tid), "w")
         if f then f:close() end
      end
      wrk.thread:stop()
   end
end

local base_done = done
function done(summary, latency, requests)
   base_done(summary, latency, requests)
   local t0, t1, total, created, unfinished = nil, nil, 0, 0, 0
   for _, t in ipairs(bench_threads) do
      local s, e = t:get("t_start"), t:get("t_end")
      if s and (not t0 or s < t0) then t0 = s end
      if e and (not t1 or e > t1) then t1 = e end
      if not e then unfinished = unfinished + 1 end
      total = total + (t:get("got") or 0)
      created = created + (t:get("ok") or 0)
   end
   if unfinished == 0 and t0 and t1 and t1 > t0 then
      io.write(string.format("CREATE rate=%.1f responses=%d created=%d secs=%.3f\n",
                             total / (t1 - t0), total, created, t1 - t0))
   else
      -- some thread hit wrk's -d cap first: fall back to wrk's own clock
      local secs = summary.duration / 1e6
      io.write(string.format("CREATE rate=%.1f responses=%d created=%d secs=%.3f unfinished=%d\n",
                             total / secs, total, created, secs, unfinished))
   end
end
