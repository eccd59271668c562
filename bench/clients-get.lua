-- wrk script for bench/clients.sh: GET /api/clients/{id}, rotating over many ids.
--
-- Env: CRM_BENCH_IDS     a file with one client id a line (all are loaded by every thread)
--      CRM_BENCH_HEADER  the credential header, e.g. "X-API-Key: crm_..." or
--                        "Authorization: Bearer eyJ..."
-- Each thread walks the ids with a prime stride from its own starting point, so the
-- connections hit different rows (no single hot row) and the order is the same every run.

local ids = {}
local i = 0
local stride = 7919
local thread_count = 0

function setup(thread)
    thread:set("thread_index", thread_count)
    thread_count = thread_count + 1
end

function init(args)
    local path = os.getenv("CRM_BENCH_IDS")
    assert(path, "CRM_BENCH_IDS is not set")
    for line in io.lines(path) do
        if line ~= "" then
            ids[#ids + 1] = line
        end
    end
    assert(#ids > 0, "no ids in " .. path)
    local header = os.getenv("CRM_BENCH_HEADER")
    if header then
        local name, value = header:match("^([^:]+):%s*(.*)$")
        assert(name, "CRM_BENCH_HEADER is not `Name: value`")
        wrk.headers[name] = value
    end
    local index = thread_index or 0
    i = (index * math.floor(#ids / 7)) % #ids
end

function request()
    i = (i + stride) % #ids
    return wrk.format("GET", "/api/clients/" .. ids[i + 1])
end
