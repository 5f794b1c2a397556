-- TechEmpower plaintext style load for wrk: every send is 16 pipelined GETs of the
-- script's URL path. The batch is built once per thread in init(); request() hands
-- the same string out each time. wrk parses the string, counts the requests in it,
-- and counts each of the 16 responses as one completed request.
local depth = 16
local batch

function init(args)
  if args[1] then depth = tonumber(args[1]) end
  local one = wrk.format("GET", wrk.path)
  batch = string.rep(one, depth)
end

function request()
  return batch
end
