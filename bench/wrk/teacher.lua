-- 教师信息采集 (POST /teachers) by a school admin: a new teacher per request, with a unique valid
-- 身份证号 (GB 11643-1999: region, birth date, sequence, check digit). Request n (counting from
-- `start`, which the caller advances past every number used) is born 1970-01-01 + n / 1000 days
-- with sequence n % 1000, in region `region` (not one the seeded teachers use).
--   wrk -t1 -c32 -d10s -s teacher.lua http://127.0.0.1:8000 -- token=<jwt> school=<id>
--       path=/api/v1/enrollment/teachers start=0 region=370199
dofile("report.lua")

local WEIGHTS = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 }
local CHECK = "10X98765432"
local opts, headers = {}, {}

function check_digit(first17)
   local sum = 0
   for i = 1, 17 do sum = sum + tonumber(string.sub(first17, i, i)) * WEIGHTS[i] end
   local r = sum % 11 + 1
   return string.sub(CHECK, r, r)
end

function id_number(n)
   local born = os.time({ year = 1970, month = 1, day = 1 + math.floor(n / 1000), hour = 12 })
   local first17 = opts.region .. os.date("%Y%m%d", born) .. string.format("%03d", n % 1000)
   return first17 .. check_digit(first17)
end

function init(args)
   opts = options(args)
   opts.start = tonumber(opts.start)
   headers = { ["Authorization"] = "Bearer " .. opts.token, ["Content-Type"] = "application/json" }
end

function request()
   local n = opts.start + items
   items = items + 1
   local body = string.format(
      '{"name":"基准新教师%d","id_number":"%s","school_id":"%s","stage":"primary",'
         .. '"subject":"语文","is_rural":false}',
      n, id_number(n), opts.school)
   return wrk.format("POST", opts.path, headers, body)
end
