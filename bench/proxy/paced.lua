-- wrk -s bench/proxy/paced.lua: every connection waits WRK_DELAY_MS (default 8) between its
-- requests (wrk's delay hook), so the offered load is the same whichever route answers and the
-- machine is not saturated: CPU per request is then the work, not the knock-on cost of a
-- saturated 2-core box (fewer requests per wake-up when the proxy is slower).
local ms = tonumber(os.getenv("WRK_DELAY_MS") or "8")
function delay()
  return ms
end
