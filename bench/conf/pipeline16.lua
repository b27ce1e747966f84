-- wrk script: every write carries 16 pipelined GET requests; wrk counts each response as a
-- request, so Requests/sec is responses per second.
init = function(args)
  local batch = {}
  for i = 1, 16 do
    batch[i] = wrk.format("GET", "/")
  end
  pipelined = table.concat(batch)
end

request = function()
  return pipelined
end
