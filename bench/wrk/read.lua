-- GET the URL given on the wrk command line with the bench API key.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
