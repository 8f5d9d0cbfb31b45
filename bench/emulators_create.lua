-- wrk script for bench/emulators.py: the create call the connector sends (method, path,
-- headers and body as captured from one real call), each request with its own contact: the
-- marker in the body (its e-mail and External ID) becomes "<thread>x<request>".
local method = os.getenv("CREATE_METHOD")
local path = os.getenv("CREATE_PATH")
local template = os.getenv("CREATE_BODY")
local marker = os.getenv("CREATE_MARKER")
local headers = {}
for name, value in string.gmatch(os.getenv("CREATE_HEADERS"), "([^\n:]+): ([^\n]*)") do
  headers[name] = value
end
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  sent = 0
end

function request()
  sent = sent + 1
  local body = string.gsub(template, marker, id .. "x" .. sent)
  return wrk.format(method, path, headers, body)
end
