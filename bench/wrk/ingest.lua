-- POST /api/v1/orders: each request sends one pre-generated batch (BENCH_BODIES: a file with
-- one JSON body per line) whose order ids contain "@@", replaced by a prefix unique to this
-- run, thread and request, so every request stores new orders. Each wrk thread starts at its
-- own place in the list (BENCH_THREADS threads, evenly spaced), so requests in flight at the
-- same moment carry different batches, hence mostly different customers, as concurrent
-- sources would: threads in lock-step would send every batch twice at once, and the twin
-- requests would queue on the same customer rows.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
local tag = os.getenv("BENCH_RUN_TAG") or "run"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = 0
local spacing = math.floor(#bodies / math.max(1, tonumber(os.getenv("BENCH_THREADS") or "1")))
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
  thread:set("start", (threads - 1) * spacing)
end

local counter = 0
function request()
  counter = counter + 1
  local body = bodies[((start + counter) % #bodies) + 1]
  local prefix = tag .. "-" .. tostring(id) .. "-" .. tostring(counter)
  body = body:gsub("@@", prefix)
  return wrk.format(nil, nil, nil, body)
end
