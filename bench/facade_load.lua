-- wrk script for bench/facade_load.py: each request asks ContactList_Retrieve for the next
-- 100-record page of the whole feed (offsets cycle over the seeded contacts), so the
-- connections together page through the feed again and again.
local offsets = tonumber(os.getenv("FACADE_LOAD_PAGES") or "25")
local template = os.getenv("FACADE_LOAD_BODY")
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  page = id * 7
end

function request()
  page = (page + 1) % offsets
  local body = string.gsub(template, "RECORDSTART", tostring(page * 100))
  return wrk.format("POST", nil, {
    ["Content-Type"] = "text/xml; charset=utf-8",
    ["SOAPAction"] = '"http://tempuri.org/CatalystDeveloperService/CatalystCRMWebservice/ContactList_Retrieve"',
  }, body)
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
