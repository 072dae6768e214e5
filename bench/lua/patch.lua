-- PATCH /v2/images/{id} (replace /name) for random ids from BENCH_IDS.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids, hdrs, n
function init(args)
   ids = bench_load_ids()
   hdrs = bench_headers({["Content-Type"] = "application/openstack-images-v2.1-json-patch"})
   math.randomseed(os.time() + (tid or 0) * 104729)
   n = 0
end
function request()
   n = n + 1
   local body = string.format('[{"op":"replace","path":"/name","value":"patched-%d-%d"}]', tid or 0, n)
   return wrk.format("PATCH", "/v2/images/" .. ids[math.random(#ids)], hdrs, body)
end
