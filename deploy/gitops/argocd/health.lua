-- Argo CD health check for bucketaccess.io/BucketAccessCheck (resource.customizations.health.bucketaccess.io_BucketAccessCheck).
-- Healthy: Ready=True. Degraded: Stalled=True (Denied, Invalid). Progressing otherwise (evaluating, Unknown, stale).
hs = {}
if obj.status == nil or obj.status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the access check to be evaluated"
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the latest spec to be evaluated"
  return hs
end
local ready, stalled = nil, nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then ready = c elseif c.type == "Stalled" then stalled = c end
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
hs.status = "Progressing"
hs.message = (ready ~= nil and ready.message) or "Evaluating"
return hs
