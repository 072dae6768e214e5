-- GET /v2/images?limit=25&marker={id} for random ids from BENCH_IDS: pages
-- from all over the catalog (the caches see every image, not one page).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids, hdrs
function init(args)
   ids = bench_load_ids()
   hdrs = bench_headers()
   math.randomseed(os.time() + (tid or 0) * 7919)
end
function request()
   return wrk.format("GET", "/v2/images?limit=25&marker=" .. ids[math.random(#ids)], hdrs)
end
