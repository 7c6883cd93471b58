-- wrk script for bench/queue.sh: one thread per reviewer, each with its own session cookie,
-- and every request a different keyset cursor (a random time in the seeded range, a random
-- id) under one of a few filters, so no two requests ask for the same page and the portal's
-- one-second page cache never answers. Args: <cookie file> <submissions> <first epoch>
-- [unfiltered]: with "unfiltered", every request asks for the unfiltered queue (the counts per
-- state, reused per filter for 2 s, are then refreshed for one filter only).
local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
end

local filters = {
  "", "kind=antivirus", "org=Q0042", "who=unassigned", "who=mine", "form=router",
  "kind=router_ports&who=unassigned", "age=30", "state=accepted", "org=Q0007&kind=antivirus",
}

function init(args)
  local i = 0
  for line in io.lines(args[1]) do
    i = i + 1
    if i == id then cookie = line end
  end
  n = tonumber(args[2])
  first = tonumber(args[3])
  if args[4] == "unfiltered" then filters = {""} end
  math.randomseed(id * 7919 + os.time())
end

local function hex(digits)
  local s = ""
  for _ = 1, digits do s = s .. string.format("%x", math.random(0, 15)) end
  return s
end

function request()
  local t = first + math.random(0, n - 1)
  local at = os.date("!%Y-%m-%dT%H:%M:%S", t) .. string.format(".%06dZ", math.random(0, 999999))
  local uuid = hex(8) .. "-" .. hex(4) .. "-7" .. hex(3) .. "-8" .. hex(3) .. "-" .. hex(12)
  local f = filters[math.random(#filters)]
  local sep = (f ~= "") and "&" or ""
  return wrk.format("GET", "/review?" .. f .. sep .. "after=" .. at .. "_" .. uuid, {["Cookie"] = cookie})
end
