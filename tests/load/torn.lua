-- wrk script for tests/it/load.rs: checks every response body while the page
-- is being rebuilt under it. Arguments (after `--` on wrk's command line):
-- the two marker strings, of which a whole page has exactly one.
--
-- wrk runs this script once per thread, each in its own Lua state; the
-- counts are globals of each thread, gathered in done() through the
-- thread objects kept by setup() (wrk's documented pattern).
--
-- Prints one line:
--   LOADCHECK CHECKED=n BAD_STATUS=n TORN=n BOTH=n NEITHER=n OLD=n NEW=n
-- CHECKED: responses seen; BAD_STATUS: status other than 200; TORN: body
-- does not start with <!DOCTYPE html> or does not end with </html> and
-- optional whitespace (a half-written file); BOTH/NEITHER: a body with both
-- markers or with neither (a mix of two versions); OLD/NEW: whole pages of
-- the first and of the second marker.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   marker_a = args[1]
   marker_b = args[2]
   if marker_a == nil or marker_b == nil then
      error("usage: wrk ... -s torn.lua URL -- MARKER_A MARKER_B")
   end
   checked, bad_status, torn, both, neither, old, new = 0, 0, 0, 0, 0, 0, 0
end

function response(status, headers, body)
   checked = checked + 1
   if status ~= 200 then
      bad_status = bad_status + 1
      return
   end
   body = body or ""
   local head = string.lower(string.sub(body, 1, 15))
   if head ~= "<!doctype html>" or not string.find(body, "</html>%s*$") then
      torn = torn + 1
   end
   local a = string.find(body, marker_a, 1, true) ~= nil
   local b = string.find(body, marker_b, 1, true) ~= nil
   if a and b then
      both = both + 1
   elseif a then
      old = old + 1
   elseif b then
      new = new + 1
   else
      neither = neither + 1
   end
end

function done(summary, latency, requests)
   local total = { checked = 0, bad_status = 0, torn = 0, both = 0, neither = 0, old = 0, new = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(total) do
         total[name] = total[name] + (thread:get(name) or 0)
      end
   end
   io.write(string.format(
      "LOADCHECK CHECKED=%d BAD_STATUS=%d TORN=%d BOTH=%d NEITHER=%d OLD=%d NEW=%d\n",
      total.checked, total.bad_status, total.torn, total.both, total.neither, total.old, total.new))
end
