-- Shared by every bench script (dofile'd first): counts answers by status, stops a thread
-- after `stop=N` answers (the "alone" latency: N sequential requests on one connection), and
-- prints one JSON line (WRKJSON {...}) in done(): latency percentiles in µs, requests, socket
-- errors, non-2xx answers, how many requests the scripts generated (items) and the first
-- non-2xx answer seen. Options come as key=value arguments after `--`.

local threads = {}

statuses = {}
non2xx = 0
answered = 0
items = 0
sample = ""
stop_after = 0

function options(args)
   local found = {}
   for _, arg in ipairs(args or {}) do
      local key, value = string.match(arg, "^([^=]+)=(.*)$")
      if key then found[key] = value end
   end
   stop_after = tonumber(found.stop or "0") or 0
   return found
end

function setup(thread)
   table.insert(threads, thread)
end

function response(status, headers, body)
   answered = answered + 1
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if sample == "" then sample = key .. " " .. string.sub(body or "", 1, 400) end
   end
   if stop_after > 0 and answered == stop_after then
      -- wrk itself runs for its whole -d; the caller ends it early (SIGINT) on this line.
      wrk.thread:stop()
      io.stdout:write("WRKSTOP\n")
      io.stdout:flush()
   end
end

local function quote(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      if c == '"' then return '\\"' end
      if c == "\\" then return "\\\\" end
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local merged, total, gen, first = {}, 0, 0, ""
   for _, thread in ipairs(threads) do
      for key, n in pairs(thread:get("statuses") or {}) do
         merged[key] = (merged[key] or 0) + n
      end
      total = total + (thread:get("non2xx") or 0)
      gen = gen + (thread:get("items") or 0)
      if first == "" then first = thread:get("sample") or "" end
   end
   local parts = {}
   for key, n in pairs(merged) do table.insert(parts, string.format('"%s":%d', key, n)) end
   local e = summary.errors
   local fields = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_us":%d', summary.duration),
      string.format('"bytes":%d', summary.bytes),
      string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
         e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"non2xx":%d', total),
      string.format('"items":%d', gen),
      '"statuses":{' .. table.concat(parts, ",") .. '}',
      string.format('"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d}',
         latency.min, latency.mean, latency.max, latency:percentile(50),
         latency:percentile(90), latency:percentile(95), latency:percentile(99),
         latency:percentile(99.9)),
      '"sample":' .. quote(first),
   }
   io.write("WRKJSON {" .. table.concat(fields, ",") .. "}\n")
end
