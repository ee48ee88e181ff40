-- certrole gate for lighttpd (mod_magnet, magnet.attract-raw-url-to).
--
-- lighttpd hands a request to the first module that claims it, so a
-- proxy.server that is always configured can take a request before the
-- FastCGI authorizer has run. In the sample configuration proxy.server
-- exists only inside $REQUEST_HEADER["X-Certrole-Gate"] == <gate>, and
-- this script sets that header only once the authorizer has said yes
-- (its Variable-CERTROLE_USER is in the request environment). Whatever
-- the module order, a request the authorizer did not allow never meets
-- a configured proxy.
--
-- It also turns the authorizer's answer into request headers for the
-- upstream (X-Certrole-User, X-Certrole-Roles); client-sent copies of
-- these headers and of the gate are always removed first.
--
-- The gate must be the same random value as var.certrole_gate in
-- lighttpd.conf (e.g. openssl rand -hex 32); keep both files private.
local gate = "CHANGE-ME"

-- the placeholder, or a value short enough to guess, would let anyone
-- who sends it past the gate: refuse every request until it is set
if gate == "CHANGE-ME" or #gate < 16 then return 500 end

local r = lighty.r
local h = r.req_header
local user = r.req_env["CERTROLE_USER"]
if user == "" then user = nil end

-- set on an earlier pass of this request: nothing to do
if user ~= nil and h["X-Certrole-Gate"] == gate then return 0 end

h["X-Certrole-Gate"] = nil
h["X-Certrole-User"] = nil
h["X-Certrole-Roles"] = nil
if user == nil then return 0 end

h["X-Certrole-User"] = user
h["X-Certrole-Roles"] = r.req_env["CERTROLE_ROLES"] or ""
h["X-Certrole-Gate"] = gate
-- evaluate the configuration again, now with the gate header
return lighty.RESTART_REQUEST
