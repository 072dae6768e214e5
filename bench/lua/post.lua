-- POST /v2/images for as long as wrk runs (names unique per thread and run).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local hdrs, n, run
function init(args)
   hdrs = bench_headers({["Content-Type"] = "application/json"})
   n = 0
   run = tostring(os.time()) .. "-" .. tostring(math.random(1000000))
end
function request()
   n = n + 1
   local body = string.format('{"name":"post-%s-%d-%d","disk_format":"raw","container_format":"bare"}',
                              run, tid or 0, n)
   return wrk.format("POST", "/v2/images", hdrs, body)
end
