-- Walks a file of prepared requests, one per line, round and round:
--   METHOD <tab> PATH <tab> HEADERS <tab> BODY
-- HEADERS is "Name: value" pairs joined by "|" (may be empty); a body is sent as JSON.
-- wrk -t1 -c32 -d10s -s lines.lua http://127.0.0.1:8000 -- file=/tmp/requests.tsv [stop=200]
dofile("report.lua")

local prepared = {}
local next_one = 0

function init(args)
   local opts = options(args)
   for line in io.lines(opts.file) do
      local method, path, headers, body = string.match(line, "^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      if method then
         local h = {}
         for name, value in string.gmatch(headers, "([^|:]+): ([^|]*)") do h[name] = value end
         if body ~= "" then h["Content-Type"] = "application/json" else body = nil end
         prepared[#prepared + 1] = wrk.format(method, path, h, body)
      end
   end
   if #prepared == 0 then error("no requests in " .. tostring(opts.file)) end
end

function request()
   items = items + 1
   next_one = next_one % #prepared + 1
   return prepared[next_one]
end
