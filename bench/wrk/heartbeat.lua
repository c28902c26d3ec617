-- Heartbeats (POST /progress) of many teachers, each playing one video at real speed: a
-- heartbeat claims (90 % of) the time since the same teacher's previous one, measured with
-- CLOCK_MONOTONIC (LuaJIT FFI), so the server's real-time rule accepts it. Each teacher gets a
-- device session of its own for this run (`run` makes it new: an earlier run's session is
-- retired by the server), so the first heartbeat of a teacher claims nothing.
--   wrk -t1 -c32 -d10s -s heartbeat.lua http://127.0.0.1:8000 -- file=/tmp/tokens.txt
--       run=r1 course=<uuid> project=<uuid> path=/api/v1/learning/progress video=14400
-- The file has one bearer token per line, one line per teacher.
dofile("report.lua")

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now()
   ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
   return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local tokens, position, last = {}, {}, {}
local opts, k = {}, 0

function init(args)
   opts = options(args)
   for line in io.lines(opts.file) do
      if line ~= "" then tokens[#tokens + 1] = "Bearer " .. line end
   end
   if #tokens == 0 then error("no tokens in " .. tostring(opts.file)) end
   opts.video = tonumber(opts.video)
end

function request()
   items = items + 1
   k = k % #tokens + 1
   local t = now()
   local segments = "[]"
   local at = position[k] or 0
   if last[k] then
      local stop = math.min(opts.video, at + (t - last[k]) * 0.9)
      if stop > at then
         segments = string.format("[[%.3f,%.3f]]", at, stop)
         at = stop
      end
   end
   position[k], last[k] = at, t
   local body = string.format(
      '{"course_id":"%s","project_id":"%s","device_session_id":"%s-%d","position":%.3f,'
         .. '"segments":%s,"client_at":"%s"}',
      opts.course, opts.project, opts.run, k, at, segments, os.date("!%Y-%m-%dT%H:%M:%SZ"))
   return wrk.format("POST", opts.path,
      { ["Authorization"] = tokens[k], ["Content-Type"] = "application/json" }, body)
end
