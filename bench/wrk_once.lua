-- wrk sends each prepared request once: bench/wrk.py writes them (raw HTTP/1.1, length-
-- prefixed) to a file; thread k of n sends records k, k + n, ... over its one connection,
-- times each answer, and appends a line to the marker file when it has its last answer,
-- so that bench/wrk.py stops wrk then (wrk itself only knows durations).
-- Arguments (after --): the requests file, the marker file, the expected status, the
-- number of threads.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } hotline_timespec;
int clock_gettime(int clk_id, hotline_timespec *tp);
]]
local clock = ffi.new("hotline_timespec[1]")
local function now()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock[0].tv_sec) + tonumber(clock[0].tv_nsec) * 1e-9
end

local threads, created = {}, 0
function setup(thread)
  thread:set("id", created)
  created = created + 1
  table.insert(threads, thread)
end

-- Globals, read back by done() through thread:get.
latencies, errors, got, started, ended = {}, 0, 0, nil, nil
local mine, next_one, sent_at, expected, marker = {}, 1, nil, 0, nil

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local data = file:read("*a")
  file:close()
  marker, expected = args[2], tonumber(args[3])
  local threads_count = tonumber(args[4])
  local count, position, index = 0, 1, 0
  while position <= #data do
    local newline = data:find("\n", position, true)
    local length = tonumber(data:sub(position, newline - 1))
    local record = data:sub(newline + 1, newline + length)
    if index % threads_count == id then
      count = count + 1
      mine[count] = record
    end
    index = index + 1
    position = newline + length + 1
  end
end

function request()
  if started == nil then started = now() end
  sent_at = now()
  local record = mine[next_one] or mine[#mine] -- past the end only while stopping
  next_one = next_one + 1
  return record
end

function response(status, headers, body)
  if got >= #mine then return end
  got = got + 1
  latencies[got] = now() - sent_at
  if status ~= expected then errors = errors + 1 end
  if got == #mine then
    ended = now()
    local file = assert(io.open(marker, "a"))
    file:write(id, "\n")
    file:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("THREAD %d %d %d %.9f %.9f\n", thread:get("id"), thread:get("got"),
      thread:get("errors"), thread:get("started") or -1, thread:get("ended") or -1))
    local values = thread:get("latencies")
    for i = 1, #values do io.write(string.format("L %.9f\n", values[i])) end
  end
end
