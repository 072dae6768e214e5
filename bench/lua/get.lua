-- GET <BENCH_PATH> (default /v2/images?limit=25); status codes tallied.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local req
function init(args)
   req = wrk.format("GET", os.getenv("BENCH_PATH") or "/v2/images?limit=25", bench_headers())
end
function request() return req end
